"""The Gradio chat: layout and wiring in app.py, handlers in handlers.py, sessions in session.py."""
