"""Static files storage."""

from whitenoise.storage import CompressedStaticFilesStorage


class GzipStaticFilesStorage(CompressedStaticFilesStorage):
    """Compressed with gzip only: Brotli, installed with WeasyPrint's font tools, takes most of a
    minute on the API docs' bundles at every `serve` start."""

    def create_compressor(self, **kwargs):
        return super().create_compressor(use_brotli=False, **kwargs)
