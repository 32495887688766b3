"""The lean Criterion's transport: criterion-transport.c (beside this file)
in place of Criterion's src/protocol/connect.c, and Criterion's calls into
nanomsg pointed at it (driver/acquire/criterion.py applies it to the
unpacked source before the build)."""
import hashlib
import shutil
from pathlib import Path

from ..errors import UserError

TRANSPORT = Path(__file__).with_name("criterion-transport.c")

# Where Criterion calls nanomsg, the transport's calls instead (each edit
# must match once: another Criterion source fails here, not at link).
EDITS = {
    "src/protocol/connect.h": [("void cri_proto_close(int sock);\n",
                                "void cri_proto_close(int sock);\n#include <stddef.h>\n"
                                "int cri_proto_send(int sock, const void *buf, size_t len);\n"
                                "int cri_proto_recv(int sock, unsigned char **buf);\n")],
    "src/protocol/messages.c": [("#include NN_H\n", '#include <errno.h>\n#include <string.h>\n#include "protocol/connect.h"\n'),
                                ("nn_recv(sock, &buf, NN_MSG, 0)", "cri_proto_recv(sock, &buf)"),
                                ("nn_recv(g_client_socket, &buf, NN_MSG, 0)", "cri_proto_recv(g_client_socket, &buf)"),
                                ("nn_send(sock, buf, size, 0)", "cri_proto_send(sock, buf, size)"),
                                ("nn_freemsg(buf)", "free(buf)"), ("nn_strerror(errno)", "strerror(errno)")],
}
# how many times each is in Criterion 2.4.1's messages.c
COUNTS = {"nn_send(sock, buf, size, 0)": 2, "nn_freemsg(buf)": 2, "nn_strerror(errno)": 3}


def identity():
    """The transport's and its edits' hash: a prefix built with another is
    another directory in the cache."""
    return hashlib.sha256(TRANSPORT.read_bytes() + repr(EDITS).encode()).hexdigest()[:12]


def put(src, version):
    """criterion-transport.c in place of Criterion's connect.c, and every
    call into nanomsg pointed at it."""
    shutil.copy2(TRANSPORT, src / "src" / "protocol" / "connect.c")
    for name, edits in EDITS.items():
        path = src / name
        text = path.read_text()
        for old, new in edits:
            if text.count(old) != COUNTS.get(old, 1):
                raise UserError(f"the lean Criterion: {name} is not Criterion {version}'s ({old!r} "
                                f"{text.count(old)} times)")
            text = text.replace(old, new)
        if "nn_" in text:
            raise UserError(f"the lean Criterion: {name} still calls nanomsg after the transport's edits")
        path.write_text(text)
