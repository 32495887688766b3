"""An x86 kernel booted at its PVH entry point: QEMU loads the ELF vmlinux
into the guest's memory as it is, so the guest does not begin by
decompressing its bzImage under TCG (debian-6.1's xz payload took 3.5 s of a
6 s boot; 6.12's zstd one about 1 s).  The vmlinux is the bzImage's own
payload, decompressed once and cached beside it, and checked: the length
the bzImage gives, an ELF, the PVH entry note.  The kernel is the same one,
entered where QEMU's PVH loader enters it; a kernel without that note, or a
payload this cannot decompress, boots as the bzImage, as before."""
import lzma
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

from . import cached

NAME = "vmlinux.pvh"
XEN_ELFNOTE_PHYS32_ENTRY = 18     # the note QEMU's PVH loader looks for


def payload(image):
    """(compressor, compressed bytes, uncompressed length) of a bzImage
    (boot protocol 2.08+ names where its payload lies), or None."""
    if len(image) < 0x250 or image[0x202:0x206] != b"HdrS" or struct.unpack_from("<H", image, 0x206)[0] < 0x208:
        return None
    setup_sects = image[0x1f1] or 4
    offset, length = struct.unpack_from("<II", image, 0x248)
    start = (setup_sects + 1) * 512 + offset
    data = image[start:start + length]
    if length < 8 or len(data) != length:
        return None
    # The build appends the uncompressed length (gzip's own trailer ends so).
    size = struct.unpack_from("<I", data, length - 4)[0]
    for magic, kind in ((b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd")):
        if data.startswith(magic):
            return kind, data, size
    return None


MAX_VMLINUX = 1 << 30     # a length beyond any kernel's: a hostile or broken image


def decompress(kind, data, size):
    """The bytes (at most size + 1 of them: more is a wrong image, not a
    reason to fill the memory), or None when they cannot be had here."""
    try:
        if kind == "gzip":
            return zlib.decompressobj(wbits=31).decompress(data, size + 1)
        if kind == "xz":
            return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data, max_length=size + 1)
        if not shutil.which("zstd"):
            return None
        with tempfile.TemporaryFile() as src:
            src.write(data[:-4])
            src.seek(0)
            proc = subprocess.Popen(["zstd", "-dcq"], stdin=src, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            try:
                out = proc.stdout.read(size + 1)
            finally:
                proc.kill()
                proc.wait()
                proc.stdout.close()
            return out if proc.returncode in (0, -9) and len(out) == size else None
    except (zlib.error, lzma.LZMAError, OSError, ValueError):
        return None


def has_pvh_entry(elf):
    """Whether the ELF's notes hold Xen's PHYS32_ENTRY (ELF32 or ELF64)."""
    if len(elf) < 0x40 or elf[:4] != b"\x7fELF" or elf[5] != 1:
        return False
    wide = elf[4] == 2
    try:
        if wide:
            phoff, = struct.unpack_from("<Q", elf, 0x20)
            phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
        else:
            phoff, = struct.unpack_from("<I", elf, 0x1c)
            phentsize, phnum = struct.unpack_from("<HH", elf, 0x2a)
        for i in range(phnum):
            at = phoff + i * phentsize
            if struct.unpack_from("<I", elf, at)[0] != 4:      # PT_NOTE
                continue
            off, size = (struct.unpack_from("<QxxxxxxxxxxxxxxxxQ", elf, at + 8) if wide
                         else struct.unpack_from("<IxxxxxxxxI", elf, at + 4))
            pos, end = off, off + size
            while pos + 12 <= end:
                namesz, descsz, kind = struct.unpack_from("<III", elf, pos)
                name = elf[pos + 12:pos + 12 + namesz].rstrip(b"\0")
                if name == b"Xen" and kind == XEN_ELFNOTE_PHYS32_ENTRY:
                    return True
                pos += 12 + (namesz + 3) // 4 * 4 + (descsz + 3) // 4 * 4
    except struct.error:
        return False
    return False


def vmlinux(vmlinuz):
    """The cached PVH-bootable vmlinux beside vmlinuz, made when missing;
    None when the kernel cannot be booted so (the bzImage is then)."""
    vmlinuz = Path(vmlinuz)
    target = vmlinuz.with_name(NAME)
    if cached.intact(target):
        return target
    try:
        found = payload(vmlinuz.read_bytes())
    except OSError:
        return None
    if found is None:
        return None
    kind, data, size = found
    elf = decompress(kind, data, size) if size <= MAX_VMLINUX else None
    if elf is None or len(elf) != size or not has_pvh_entry(elf):
        return None
    try:
        return cached.store(target, elf)
    except OSError:     # a cache that cannot take it (read-only, full) costs only the time
        return None
