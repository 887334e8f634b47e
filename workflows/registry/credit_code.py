"""统一社会信用代码 (GB 32100-2015): 18 characters with a mod-31 check character."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    """The 18th character for the first 17."""
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """None when valid, otherwise a Chinese explanation of what is wrong."""
    if len(code) != 18:
        return "统一社会信用代码应为18位"
    bad = sorted({ch for ch in code if ch not in ALPHABET})
    if bad:
        return f"统一社会信用代码含有无效字符：{''.join(bad)}（只能是数字和大写字母，不含 I、O、Z、S、V）"
    if check_character(code[:17]) != code[17]:
        return "统一社会信用代码校验位不正确，请核对"
    return None


def make_credit_code(first17: str) -> str:
    """Complete a 17-character prefix with its check character (demo data, tests)."""
    return first17 + check_character(first17)
