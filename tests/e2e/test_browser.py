"""The chat in a real browser: Debian's headless Chromium driven by Playwright over the real app and agent."""

import re
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                                reason="Debian's chromium is not installed (`make browser` installs it)")


@pytest.fixture
def app_url(tmp_path: Path):
    """The app over a fresh home, launched in this process on a free local port."""
    from graph.agent import Agent
    from ui.app import launch

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    demo = launch(Agent(home=tmp_path / "home", accel="cpu"), port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def test_upload_describe_train_shows_steps_plots_experiments_and_downloads(app_url: str):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium") or CHROMIUM,
                                             args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        page.goto(app_url)
        page.locator("#message input[type=file]").set_input_files(str(ROOT / "samples" / "titanic.csv"))
        expect(page.locator("#message").get_by_role("listitem", name="File thumbnail")).to_be_visible(
            timeout=30_000)
        page.locator("#message textarea").fill("describe the data, the target is survived, "
                                               "train logistic regression")
        page.locator("#message textarea").press("Enter")

        chat = page.locator("#chat")
        expect(chat).to_contain_text("eda · describe", timeout=120_000)
        page.screenshot(path=ARTIFACTS / "chat-running.png")
        expect(page.locator("#experiments")).to_contain_text("logistic_regression", timeout=180_000)
        expect(chat).to_contain_text("✓ trainer · train")
        for title in ("plan: 4 step(s)", "✓ eda · load", "✓ eda · describe", "✓ eda · set_target"):
            expect(chat).to_contain_text(title)
        images = chat.locator("img")
        expect(images.first).to_be_visible(timeout=30_000)
        assert images.count() >= 3
        assert images.first.evaluate("img => img.complete && img.naturalWidth > 0")
        page.screenshot(path=ARTIFACTS / "chat-done.png", full_page=True)

        page.get_by_role("tab", name="Downloads").click()
        link = page.locator('#downloads a[download="best_model.joblib"]')
        expect(link).to_be_visible(timeout=30_000)
        assert re.search(r"/gradio_api/file=.*best_model\.joblib$", link.get_attribute("href"))
        assert "/workspaces/" not in link.get_attribute("href")  # served from Gradio's cache, not the home
        page.screenshot(path=ARTIFACTS / "downloads.png")

        page.get_by_role("tab", name="Graph").click()
        expect(page.locator("#graph svg").first).to_be_visible(timeout=30_000)
        page.screenshot(path=ARTIFACTS / "graph.png")

        page.get_by_role("tab", name="Checkpoints").click()
        expect(page.locator("#checkpoints")).to_contain_text("train done", timeout=30_000)
        page.screenshot(path=ARTIFACTS / "checkpoints.png")
        browser.close()
