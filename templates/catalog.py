"""The variables each template under ``templates/files`` may use: the contract with the workflows.

One entry per template file. ``kinderflow templates check`` (``templates.check``) fails when a
template uses a variable not declared here (a typo in Word, or a field the code does not supply)
and warns when a declared variable is no longer used (a field deleted from the form). Loop items
(``a.kind_label``) are documented in the comments; only top-level names are checked.
"""

from __future__ import annotations

TEMPLATE_VARIABLES: dict[str, frozenset[str]] = {
    # 加入申请表 — workflows/applications/documents.py form_context
    "application_form.docx": frozenset({
        "name", "credit_code", "licence_no", "licence_issued_on", "sponsor", "legal_representative",
        "head_name", "head_phone", "contact_name", "contact_phone", "address", "town",
        "ownership_label", "inclusive_label", "classes", "children", "staff", "teachers",
        "certified_teachers", "certification_rate", "site_area_m2", "building_area_m2",
        "last_inspection_year", "last_inspection_result", "penalties_last_3_years",
        "safety_incidents_last_3_years", "preferred_alliance_name", "reasons", "needs_label",
        "commitments",
        "attachments",  # list of {kind_label, filename, size_label, sha256_short}
        "eligibility",  # list of {label, result (符合/不符合/待核实), detail}
        "application_no", "version_no", "generated_on",
    }),
}  # fmt: skip
