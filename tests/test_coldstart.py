"""Cold start: underthesea is imported without its translate pipeline (transformers/torch)."""
import subprocess
import sys


def test_underthesea_import_skips_translate_and_torch():
    code = ("import sys\n"
            "from kehoach.extract.nlp import import_underthesea, verb_offset\n"
            "u = import_underthesea()\n"
            "assert u.word_tokenize('Sở Y tế nâng cấp bệnh viện')\n"
            "assert verb_offset('Sở Y tế nâng cấp bệnh viện') == 8\n"
            "print('torch' in sys.modules, 'transformers' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
