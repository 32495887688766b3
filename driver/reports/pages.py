"""The HTML pages of a report, by file name: the report itself and the
annotated notes, which link to each other."""
from .. import relpaths
from . import html, notes


def render(doc, lang="en", neutral=False):
    # A results file made before paths were relative still renders without
    # naming the machine it was made on (neutral: doc is made so already).
    doc = doc if neutral else relpaths.document(doc)
    return {"report.html": html.render(doc, lang), "notes.html": notes.render(doc, lang)}
