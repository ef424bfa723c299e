"""The yardstick: a Flask app that answers "Hello, world!", served by gunicorn with the same
settings as laks in the same run. laks' pages are reported as a share of its requests per
second, which holds on a shared machine where absolute times are noise."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, world!"
