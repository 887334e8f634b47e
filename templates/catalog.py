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
        # 审核意见: filled when the section decides (workflows/applications/decisions.py)
        "submitted_on", "review_opinion", "decision_line", "reviewer", "decided_on",
    }),
    # 批复 — workflows/applications/decisions.py letter_context
    "decision_letter.docx": frozenset({
        "number", "title", "addressee", "issuer", "issued_on", "office", "application_no",
        "verification_code", "verify_url",
        "body",  # list of paragraphs (text)
    }),
    # 签到表 — workflows/activities/documents.py sign_in_context
    "sign_in_sheet.docx": frozenset({
        "number", "semester_name", "alliance_name", "topic", "domain", "format", "when", "place",
        "host_name", "chair", "presenters", "expected", "present", "late", "leave", "absent", "sign_in_url",
        "participants",  # list of {no, name, kindergarten, role, post, signature, signed_at, note}
    }),
    # 活动档案封面 — workflows/activities/archive_files.py cover_context
    "activity_cover.docx": frozenset({
        "archive_code", "number", "semester_name", "alliance_name", "topic", "domain", "format", "when",
        "place", "host_name", "chair", "presenters", "expected", "present", "leave", "absent",
        "materials_count", "retention", "archived_on", "archived_by",
        "categories",  # list of {folder, label, files, status}
    }),
    # 四性检测报告 — workflows/activities/archive_files.py check_report_context
    "archive_check_report.docx": frozenset({
        "number", "alliance_name", "topic", "checked_on", "conclusion",
        "properties",  # list of {label, standard, result, detail}
        "files",  # list of {no, path, size, authentic, usable, secure, problems}
    }),
    # 联盟互动计划 / 教研经验小结 — workflows/activities/documents.py semester_work_context
    "semester_work.docx": frozenset({
        "title", "alliance_name", "semester_name", "lead_name", "author", "submitted_on",
        "sections",  # list of {heading, body}
        "schedule",  # list of {when, topic, format, domain, host}
    }),
    # 联盟协议书 — workflows/agreements/documents.py agreement_context
    "agreement.docx": frozenset({
        "number", "status_line", "alliance_name", "basis", "term_start", "term_end",
        "special_clauses", "verification_code", "verify_url", "verify_note",
        *(f"{party}_{field}" for party in ("lead", "pillar", "member", "bureau")
          for field in ("label", "name", "head", "address")),
    }),
    # 联盟协议书（龙头园与支柱园）— the same context without the member (丙方)
    "agreement_lead_pillar.docx": frozenset({
        "number", "status_line", "alliance_name", "basis", "term_start", "term_end",
        "special_clauses", "verification_code", "verify_url", "verify_note",
        *(f"{party}_{field}" for party in ("lead", "pillar", "bureau")
          for field in ("label", "name", "head", "address")),
    }),
    # 签署完成证明 — workflows/agreements/completion.py certificate_context
    "completion_certificate.docx": frozenset({
        "title", "number", "alliance_name", "verification_code", "verify_url", "round", "sent_at",
        "effective_at", "term", "issuer", "ca_fingerprint", "statement", "generated_at",
        # list of {step, party, party_name, signer, signed_at, address, subject, serial, fingerprint, not_after}
        "signatures",
        "files",  # list of {label, created_at, sha256}
        "timeline",  # list of {seq, at, actor, event, change, comment}
    }),
    # 年度考核评价表 — workflows/evaluations/documents.py form_context
    "evaluation_form.docx": frozenset({
        "number", "year", "alliance_name", "alliance_code", "lead_name", "pillar_name", "members_count",
        "state_label", "status_note", "full_marks", "total", "grade", "veto_note", "self_remarks",
        "review_remarks", "self_assessed_on", "published_on", "computed_on",
        "items",  # list of {no, section, label, max_points, assessor, evidence, computed, self_score, final, remark}
    }),
    # 公开课证书 / 讲座证书 — workflows/certificates/documents.py certificate_context
    "certificate.docx": frozenset({
        "title", "number", "teacher_name", "kindergarten_name", "alliance_name", "topic", "held_on",
        "role_phrase", "issuer", "issued_on", "verification_code", "verify_url",
    }),
    # 幼教导师团推荐表 — workflows/mentors/documents.py nomination_context
    "mentor_nomination.docx": frozenset({
        "number", "team_label", "teacher_name", "kindergarten_name", "post", "level_label",
        "professional_title", "teaching_years", "phone", "qualifications_label", "research_topics",
        "achievements", "reasons", "generated_on",
    }),
    # 导师聘书 — workflows/mentors/documents.py appointment_context
    "mentor_appointment.docx": frozenset({
        "letter_no", "teacher_name", "kindergarten_name", "team_label", "term_start", "term_end",
        "alliances_label", "issuer", "issued_on",
    }),
    # 推荐发表函 — workflows/library/recommendations.py letter_context
    "publication_recommendation.docx": frozenset({
        "letter_no", "journal", "title", "category_label", "domain", "age_group", "alliance_name",
        "kindergarten_name", "activity_topic", "activity_date", "reason", "sha256_short",
        "recommender_name", "issuer", "issued_on",
    }),
}  # fmt: skip
