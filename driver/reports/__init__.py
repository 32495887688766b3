"""The report set a run writes: every format rendered first, then each file
put in place."""
from .. import fsutil, pages, report_junit, report_kcidb, report_ktap, report_md, results


def write(doc, out, lang="en", kcidb_schema="v5"):
    fsutil.write_all({out / "results.json": results.dumps(doc), out / "report.md": report_md.render(doc, lang),
                      **{out / name: text for name, text in pages.render(doc, lang).items()},
                      out / "junit.xml": report_junit.render(doc),
                      out / "kcidb.json": report_kcidb.render(doc, kcidb_schema),
                      out / "results.ktap": report_ktap.render(doc)})
