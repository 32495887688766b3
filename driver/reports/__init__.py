"""The report set a run writes: every format rendered first, then each file
put in place."""
from .. import fsutil, results
from . import junit, kcidb, ktap, md, pages


def write(doc, out, lang="en", kcidb_schema="v5"):
    fsutil.write_all({out / "results.json": results.dumps(doc), out / "report.md": md.render(doc, lang),
                      **{out / name: text for name, text in pages.render(doc, lang).items()},
                      out / "junit.xml": junit.render(doc),
                      out / "kcidb.json": kcidb.render(doc, kcidb_schema),
                      out / "results.ktap": ktap.render(doc)})
