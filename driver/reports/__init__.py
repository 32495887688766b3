"""The report set a run writes: every format rendered first, then each file
put in place."""
from .. import fsutil, report_html, report_junit, report_kcidb, report_md, results


def write(doc, out):
    fsutil.write_all({out / "results.json": results.dumps(doc), out / "report.md": report_md.render(doc),
                      out / "report.html": report_html.render(doc), out / "junit.xml": report_junit.render(doc),
                      out / "kcidb.json": report_kcidb.render(doc)})
