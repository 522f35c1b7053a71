"""The Gradio app: layout and wiring only; every behaviour lives in ui.handlers and ui.session."""

import os
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402  (after the analytics switch)

from graph import registry  # noqa: E402
from nodes.llm_client import LLMSettings  # noqa: E402
from ui import handlers  # noqa: E402
from ui.session import UPLOAD_TYPES, Sessions  # noqa: E402

CONCURRENCY = 8  # sessions whose turns run at once; Stop and panel refreshes are never queued behind them
CSS = "#progress {min-height: 1.5em} footer {display: none !important}"
SAMPLE_PROMPTS = (
    "load samples/titanic.csv, the target is survived, describe it and train classifiers",
    "load samples/ames_housing.csv.gz, predict SalePrice with boosted trees and ridge",
    "load samples/penguins.csv, target species, train classifiers and tune the best one with 20 trials",
)


def llm_status() -> str:
    """The LLM endpoint line of the Settings tab (the key is never shown)."""
    settings = LLMSettings.resolve()
    if not settings.configured():
        return ("LLM endpoint: **not configured** (set `NVIDIA_API_KEY` or `DSGRAPH_LLM_BASE_URL`); "
                "the `llm` planner falls back to the rule planner.")
    return f"LLM endpoint: **configured**, {settings.describe()}."


def build(agent: Any) -> gr.Blocks:
    """The chat app over `agent`: one thread and workspace per browser session."""
    sessions = Sessions(agent.home)
    with gr.Blocks(title="dsgraph") as demo:
        gr.Markdown("## dsgraph · conversational data science")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Chat", height=640, elem_id="chat", buttons=["copy"],
                                     feedback_options=None, placeholder="Upload a CSV and ask, e.g. "
                                     "*describe the data and train with target survived*.")
                progress = gr.Markdown(elem_id="progress")
                with gr.Row():
                    box = gr.MultimodalTextbox(file_types=list(UPLOAD_TYPES), scale=9, show_label=False,
                                               placeholder="Message (attach CSV, TSV, Parquet, JSON, Excel)",
                                               elem_id="message")
                    stop = gr.Button("Stop", variant="stop", scale=1, min_width=80, elem_id="stop")
                gr.Examples([{"text": text, "files": []} for text in SAMPLE_PROMPTS], inputs=[box],
                            label="Try it on the bundled sample data")
            with gr.Column(scale=2):
                with gr.Tabs():
                    with gr.Tab("Experiments", elem_id="tab-experiments"):
                        every_thread = gr.Checkbox(label="all threads", value=False)
                        table = gr.Dataframe(handlers.experiments_table([]), interactive=False,
                                             elem_id="experiments", max_height=320)
                        with gr.Row():
                            first = gr.Dropdown(label="compare", choices=[], allow_custom_value=True)
                            second = gr.Dropdown(label="with", choices=[], allow_custom_value=True)
                        comparison = gr.Dataframe(handlers.compare_table([], None, None), interactive=False,
                                                  elem_id="comparison")
                    with gr.Tab("Graph", elem_id="tab-graph"):
                        graph = gr.Markdown(handlers.as_markdown(agent.mermaid()), elem_id="graph")
                    with gr.Tab("Checkpoints", elem_id="tab-checkpoints"):
                        with gr.Row():
                            picker = gr.Dropdown(label="thread", choices=[], elem_id="thread-picker", scale=4)
                            open_thread = gr.Button("Open", elem_id="open-thread", scale=1)
                        with gr.Row():
                            thread_label = gr.Markdown(elem_id="thread-id")
                            new_thread = gr.Button("New conversation", size="sm")
                        points = gr.Dataframe(headers=["checkpoint_id", "node", "time", "next", "summary"],
                                             interactive=False, elem_id="checkpoints", max_height=300)
                        point = gr.Dropdown(label="checkpoint", choices=[], elem_id="checkpoint-picker")
                        with gr.Row():
                            resume_btn = gr.Button("Resume interrupted run", elem_id="resume")
                            fork_btn = gr.Button("Fork from checkpoint", elem_id="fork")
                    with gr.Tab("Downloads", elem_id="tab-downloads"):
                        downloads = gr.File(label="artifacts of this conversation", file_count="multiple",
                                            interactive=False, elem_id="downloads")
                    with gr.Tab("Settings", elem_id="tab-settings"):
                        choices = {role: list(registry.implementations(role)) for role in registry.ROLES}
                        pickers = [gr.Radio(choices[role], value=agent.implementations[role], label=role)
                                   for role in registry.ROLES]
                        gr.Markdown(llm_status())
                    with gr.Tab("Deployments", elem_id="tab-deployments"):
                        approval = gr.Markdown(elem_id="approval")
                        with gr.Row():
                            approve_btn = gr.Button("Approve", variant="primary", interactive=False,
                                                    elem_id="approve")
                            reject_btn = gr.Button("Reject", interactive=False, elem_id="reject")
                        deployed = gr.Dataframe(interactive=False, elem_id="deployments", max_height=320)
                    with gr.Tab("Monitoring", elem_id="tab-monitoring"):
                        monitored = gr.Markdown(elem_id="monitoring")
                        drift_plot = gr.LinePlot(x="at", y="psi", color="feature", elem_id="drift-plot",
                                                 title="PSI of the most drifted features")

        def records(session, all_threads: bool) -> list[dict]:
            if all_threads:
                return agent.history()
            return agent.history(session.thread_id) if agent.state(session.thread_id) else []

        def panels(all_threads: bool, request: gr.Request):
            session = sessions.get(request)
            found = records(session, all_threads)
            ids = [r["id"] for r in found]
            rows = handlers.checkpoint_rows(agent, session.thread_id)
            waiting, pending = handlers.approval_view(agent, session)
            return (handlers.experiments_table(found), gr.update(choices=ids), gr.update(choices=ids),
                    handlers.download_paths(session), f"this conversation: `{session.thread_id}`",
                    gr.update(choices=handlers.thread_choices(agent), value=None),
                    rows, gr.update(choices=list(rows["checkpoint_id"]), value=None), waiting,
                    gr.update(interactive=pending), gr.update(interactive=pending),
                    handlers.deployments_table(agent.home), *handlers.monitoring_view(agent.home))

        def compare(a: str | None, b: str | None, all_threads: bool, request: gr.Request):
            return handlers.compare_table(records(sessions.get(request), all_threads), a, b)

        def frames(stream):
            for frame in stream:
                yield frame.messages, frame.progress, frame.graph

        def on_message(message: dict, request: gr.Request):
            yield from ((*out, None) for out in frames(handlers.chat(agent, sessions.get(request), message)))

        def on_resume(request: gr.Request):
            yield from frames(handlers.resume(agent, sessions.get(request), None))

        def on_fork(checkpoint_id: str | None, request: gr.Request):
            if not checkpoint_id:
                raise gr.Error("Pick a checkpoint to fork from.")
            yield from frames(handlers.resume(agent, sessions.get(request), checkpoint_id))

        def on_answer(approved: bool):
            def answer(request: gr.Request):
                yield from frames(handlers.answer(agent, sessions.get(request), approved))
            return answer

        def on_open(thread_id: str | None, request: gr.Request):
            if not thread_id:
                raise gr.Error("Pick a thread to open.")
            return handlers.reopen(agent, sessions.get(request), thread_id)

        def on_new(request: gr.Request):
            sessions.get(request).start_new()
            return [], ""

        def setter(role: str):
            def on_change(name: str, request: gr.Request) -> None:
                sessions.get(request).implementations[role] = name
            return on_change

        def on_stop(request: gr.Request) -> None:
            sessions.get(request).stop.set()

        def on_load(request: gr.Request):
            return sessions.get(request).messages

        panel_io = dict(inputs=[every_thread], concurrency_limit=None,
                        outputs=[table, first, second, downloads, thread_label, picker, points, point,
                                 approval, approve_btn, reject_btn, deployed, monitored, drift_plot])
        chat_out = [chatbot, progress, graph]
        box.submit(on_message, [box], [*chat_out, box], api_name="chat").then(panels, **panel_io)
        refresh = gr.Button(visible=False)
        refresh.click(panels, api_name="panels", **panel_io)
        stop.click(on_stop, None, None, concurrency_limit=None, api_name="stop")
        resume_btn.click(on_resume, None, chat_out, api_name="resume").then(panels, **panel_io)
        fork_btn.click(on_fork, [point], chat_out, api_name="fork").then(panels, **panel_io)
        approve_btn.click(on_answer(True), None, chat_out, api_name="approve").then(panels, **panel_io)
        reject_btn.click(on_answer(False), None, chat_out, api_name="reject").then(panels, **panel_io)
        open_thread.click(on_open, [picker], [chatbot], concurrency_limit=None, api_name="open_thread").then(
            panels, **panel_io)
        new_thread.click(on_new, None, [chatbot, progress], concurrency_limit=None,
                         api_name="new_thread").then(panels, **panel_io)
        every_thread.change(panels, **panel_io)
        for dropdown in (first, second):
            dropdown.change(compare, [first, second, every_thread], [comparison], concurrency_limit=None)
        for role, radio in zip(registry.ROLES, pickers, strict=True):
            radio.change(setter(role), [radio], None, concurrency_limit=None)
        demo.load(on_load, None, [chatbot], concurrency_limit=None).then(panels, **panel_io)
        demo.unload(sessions.close)
    demo.queue(default_concurrency_limit=CONCURRENCY)
    return demo


def launch(agent: Any, host: str = "127.0.0.1", port: int = 7860, **kwargs: Any) -> gr.Blocks:
    """Build and start the app; keyword arguments go to `Blocks.launch` (e.g. prevent_thread_lock=True)."""
    demo = build(agent)
    demo.launch(server_name=host, server_port=port, css=CSS, show_error=True, **kwargs)
    return demo
