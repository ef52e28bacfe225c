"""Legacy and other word-processor files (.doc, .rtf, .odt, .wpd, ...) -> DOCX through
LibreOffice headless, then the DOCX reader.

Stages:

1. ``ole_kind``     an OLE2 container ("\\xd0\\xcf\\x11\\xe0") is a Word 97-2003 .doc, an
                    encrypted Office file (OOXML inside ``EncryptedPackage``, or a .doc with
                    the FIB's fEncrypted bit), or something else (Excel, PowerPoint, MSI):
                    told apart by the stream names, with olefile
2. ``to_docx``      ``soffice --headless --convert-to docx`` in a fresh temporary folder,
                    with its own user profile (``-env:UserInstallation``) so conversions
                    running in parallel do not share a profile lock, and a timeout
                    (``KEHOACH_SOFFICE_TIMEOUT`` seconds) after which the whole process
                    group is killed
3. ``read_office``  the DOCX bytes -> ``docx.read_docx``; the record keeps the original
                    file's format and hash, and says in ``meta`` that LibreOffice converted it

LibreOffice is a system package (Debian ``libreoffice-writer-nogui``, installed by
``install.sh``); when it is missing the file is refused with that one line.
"""
from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

from kehoach.errors import IngestError
from kehoach.models import IngestedDocument

OLE_MAGIC = b"\xd0\xcf\x11\xe0"
# Seconds a conversion may take. A 100-page .doc converts in ~5 s on one core; the
# first run of a fresh profile adds ~3 s. Two minutes leaves room for a busy machine.
SOFFICE_TIMEOUT = float(os.environ.get("KEHOACH_SOFFICE_TIMEOUT") or 120)
_CANDIDATES = ("soffice", "libreoffice", "/usr/lib/libreoffice/program/soffice",
               "/opt/libreoffice/program/soffice", "/Applications/LibreOffice.app/Contents/MacOS/soffice")


def soffice() -> Optional[str]:
    """The LibreOffice executable, or None. ``KEHOACH_SOFFICE``, when set, is the only
    one tried (a path or a command name)."""
    env = os.environ.get("KEHOACH_SOFFICE")
    for c in (env,) if env else _CANDIDATES:
        found = shutil.which(c)
        if found:
            return found
    return None


def ole_kind(data: bytes) -> str:
    """What an OLE2 file holds: "encrypted", "doc", "damaged", or "other:<what it is>"."""
    import olefile
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception:  # olefile raises OSError, ValueError, IndexError, ... on a damaged file
        # olefile's own messages name its internals ("Exceeds the limit (4300 digits) for
        # integer string conversion"): the user is told what to do instead
        return "damaged"
    try:
        streams = {"/".join(s) for s in ole.listdir(streams=True, storages=False)}
        if {"EncryptionInfo", "EncryptedPackage"} & streams:
            return "encrypted"
        if "WordDocument" in streams:
            fib = ole.openstream("WordDocument").read(12)
            # FibBase.fEncrypted is bit 8 of the 16-bit flags at offset 10
            if len(fib) >= 12 and int.from_bytes(fib[10:12], "little") & 0x0100:
                return "encrypted"
            return "doc"
        kinds = {"Workbook": "an Excel workbook", "Book": "an Excel workbook",
                 "PowerPoint Document": "a PowerPoint presentation"}
        for name, what in kinds.items():
            if name in streams:
                return f"other:{what}"
        return "other:an OLE file without a Word document"
    finally:
        ole.close()


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def to_docx(data: bytes, suffix: str, source: str, timeout: Optional[float] = None) -> bytes:
    """Convert one file's bytes to DOCX bytes with LibreOffice headless."""
    exe = soffice()
    if exe is None:
        raise IngestError(source, f"reading {suffix or 'this'} files needs LibreOffice (soffice), which is not "
                                  "installed: apt-get install libreoffice-writer-nogui, or save the file as .docx")
    timeout = SOFFICE_TIMEOUT if timeout is None else timeout
    with tempfile.TemporaryDirectory(prefix="kehoach-soffice-") as tmp:
        tmpd = Path(tmp)
        src = tmpd / f"input{suffix or '.doc'}"
        src.write_bytes(data)
        out = tmpd / "out"
        out.mkdir()
        cmd = [exe, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
               f"-env:UserInstallation={(tmpd / 'profile').as_uri()}",
               "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(out), str(src)]
        env = dict(os.environ, HOME=str(tmpd))   # nothing written to the user's home
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                env=env, cwd=tmp, start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise IngestError(source, f"LibreOffice did not convert the file within {timeout:g} s "
                                      "(set KEHOACH_SOFFICE_TIMEOUT to wait longer)") from None
        result = out / (src.stem + ".docx")
        if proc.returncode != 0 or not result.exists() or result.stat().st_size == 0:
            msg = (err or b"").decode("utf-8", "replace").strip().splitlines()
            why = msg[-1][:160] if msg else f"exit status {proc.returncode}"
            raise IngestError(source, f"LibreOffice could not read the file as a document ({why})")
        return result.read_bytes()


def read_office(data: bytes, source: str, sha256: str, suffix: str) -> IngestedDocument:
    """A .doc/.rtf/.odt/... file -> IngestedDocument, through LibreOffice and the DOCX reader."""
    from kehoach.ingest.docx import read_docx
    if data.startswith(OLE_MAGIC):
        kind = ole_kind(data)
        if kind == "encrypted":
            raise IngestError(source, "password-protected Office file: remove the password and save it again")
        if kind == "damaged":
            raise IngestError(source, "damaged Word 97-2003 file: its OLE container cannot be read "
                                      "(open it in Word or LibreOffice and save it again)")
        if kind.startswith("other:"):
            raise IngestError(source, f"not a Word document: {kind[6:]}")
    converted = to_docx(data, suffix, source)
    doc = read_docx(converted, source, sha256)
    doc.format = (suffix or ".doc").lstrip(".").lower()
    doc.meta["converted_by"] = "LibreOffice"
    return doc
