"""The report set a run writes: every format rendered first, then each file
put in place."""
from .. import fsutil, relpaths, results
from . import junit, kcidb, ktap, md, pages


def write(doc, out, lang="en", kcidb_schema="v5"):
    # machine-neutral once for the pages and report.md (a result file made
    # elsewhere may not be; 9 ms a time)
    neutral = relpaths.document(doc)
    fsutil.write_all({out / "results.json": results.dumps(doc), out / "report.md": md.render(neutral, lang, True),
                      **{out / name: text for name, text in pages.render(neutral, lang, True).items()},
                      out / "junit.xml": junit.render(doc),
                      out / "kcidb.json": kcidb.render(doc, kcidb_schema),
                      out / "results.ktap": ktap.render(doc)})
