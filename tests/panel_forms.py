"""What a browser posts for a panel form as the page shows it, with some fields changed."""

from wispbill.panel.forms.clients import ClientForm, client_initial


def form_data(form) -> dict:
    """What a browser would post for a form as it is shown."""
    data = {}
    for bound in form:
        value = bound.value()
        if value is None or value is False:
            continue
        data[bound.html_name] = "on" if value is True else value
    return data


def client_form_data(client, **changes) -> dict:
    initial = client_initial(client, client.effective_switches)
    return {**form_data(ClientForm(initial=initial, can_toggle=True)), **changes}
