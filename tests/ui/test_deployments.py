"""The Deployments tab through gradio_client: a deploy asked in the chat waits for Approve, then serves."""

from gradio_client import Client, handle_file

from tests.ui.clients import SAMPLES, panels, text
from tools.deployments import Deployments


def test_a_deploy_waits_for_approve_and_the_tab_shows_versions_and_the_pending_change(app):
    url, agent = app
    client = Client(url, verbose=False)
    chat = client.predict({"text": "the target is survived, train logistic regression, register it as "
                                   "ui/titanic and deploy it",
                           "files": [handle_file(str(SAMPLES / "titanic.csv"))]}, api_name="/chat")[0]
    assert "Waiting for your approval" in text(chat[-1])
    waiting = panels(client)
    assert waiting["approval"].startswith("**Waiting for your approval**: deploy ui/titanic")
    assert Deployments(agent.home).current("ui/titanic") == []
    rows = waiting["deployments"]
    assert rows["data"][0][:2] == ["ui/titanic", 1] and "deployed" in rows["headers"]

    chat = client.predict(api_name="/approve")[0]
    assert "**Deployed**: ui/titanic: nothing deployed → v1 live 100%" in text(chat[-1])
    assert Deployments(agent.home).current("ui/titanic") == [{"version": 1, "traffic": 100.0, "mode": "live"}]
    done = panels(client)
    assert done["approval"] == "Nothing is waiting for your approval."
    row = done["deployments"]["data"][0]
    assert row[done["deployments"]["headers"].index("deployed")] == "100% live"
