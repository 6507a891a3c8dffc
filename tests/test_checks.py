"""Each check on hand-made data: `test_<family>_<case>`."""

from __future__ import annotations

from dataclasses import replace

from conftest import make_address, make_contact, make_invoice, make_learner

from checks.alerts import alerts_clear
from checks.contact import contact_active, contact_duplicates, contact_found, contact_in_sync
from checks.invoice import (
    invoice_contact_code,
    invoice_contact_merged,
    invoice_in_wisenet,
    invoice_status,
    invoice_type,
)
from checks.learner import (
    learner_address,
    learner_email,
    learner_field_mapping,
    learner_full_name,
    learner_sync_enabled,
)
from diagnose.model import (
    Country,
    EventAlert,
    State,
    Status,
    Target,
    TargetKind,
    WisenetInvoice,
)

LEARNER_TARGET = Target(TargetKind.LEARNER, "123", "learner 123")


def test_learner_sync_enabled_fails_when_unticked() -> None:
    assert learner_sync_enabled(learner=make_learner(sync_to_xero=False)).status is Status.FAIL
    assert learner_sync_enabled(learner=make_learner()).status is Status.PASS


def test_learner_full_name_names_what_is_missing() -> None:
    outcome = learner_full_name(learner=make_learner(last_name="  "))
    assert outcome.status is Status.FAIL
    assert "surname" in outcome.message


def test_learner_address_complete_australian_address_passes() -> None:
    assert learner_address(learner=make_learner()).status is Status.PASS


def test_learner_address_missing_state_and_postcode_fails() -> None:
    outcome = learner_address(learner=make_learner(street=make_address(state_id=None, postcode="")))
    assert outcome.status is Status.FAIL
    assert "no state" in outcome.message
    assert "no postcode" in outcome.message


def test_learner_address_postcode_must_be_four_digits() -> None:
    outcome = learner_address(learner=make_learner(street=make_address(postcode="200")))
    assert outcome.status is Status.FAIL


def test_learner_address_postcode_of_another_state_only_warns() -> None:
    outcome = learner_address(learner=make_learner(street=make_address(postcode="3690")))
    assert outcome.status is Status.WARN
    assert "VIC" in outcome.message


def test_learner_address_act_carve_out_in_nsw_range_is_fine() -> None:
    act = State(8, "08", "ACT", "Australian Capital Territory")
    learner = make_learner(street=make_address(state_id=8, postcode="2601"), states={8: act})
    assert learner_address(learner=learner).status is Status.PASS


def test_learner_address_overseas_needs_no_australian_state() -> None:
    nz = Country(1201, "1201", "New Zealand")
    ovs = State(99, "99", "OVS", "Overseas")
    learner = make_learner(
        street=make_address(state_id=99, postcode="1010", country_id=1201),
        states={99: ovs},
        countries={1201: nz},
    )
    assert learner_address(learner=learner).status is Status.PASS


def test_learner_email_invalid_and_empty_fail_valid_passes() -> None:
    assert learner_email(learner=make_learner(email="jo@example")).status is Status.FAIL
    assert learner_email(learner=make_learner(email="")).status is Status.FAIL
    assert (
        learner_email(learner=make_learner(email="jo.o'neil@example.com.au")).status is Status.PASS
    )


def test_learner_field_mapping_suggests_the_exact_country() -> None:
    typo = Country(1202, "1201", "Newzealand")
    learner = make_learner(street=make_address(country_id=1202), countries={1202: typo})
    alert = EventAlert("Learner Sync errors", "NZCountry unknown", "STD0000123", None, False)
    outcome = learner_field_mapping(learner=learner, alerts=(alert,))
    assert outcome.status is Status.FAIL
    assert "did you mean 'New Zealand'?" in outcome.message
    assert "NZCountry unknown" in outcome.message


def test_learner_field_mapping_trailing_space_is_not_exact() -> None:
    spaced = Country(1101, "1101", "Australia ")
    learner = make_learner(countries={1101: spaced})
    outcome = learner_field_mapping(learner=learner, alerts=None)
    assert outcome.status is Status.FAIL
    assert "did you mean 'Australia'?" in outcome.message


def test_learner_field_mapping_unresolvable_state_id_fails() -> None:
    outcome = learner_field_mapping(learner=make_learner(states={}), alerts=None)
    assert outcome.status is Status.FAIL
    assert "StateId 1" in outcome.message


def test_learner_field_mapping_exact_values_pass() -> None:
    assert learner_field_mapping(learner=make_learner(), alerts=None).status is Status.PASS


def test_contact_found_none_fails_and_names_the_code() -> None:
    outcome = contact_found(learner=make_learner(), contact=None, candidates_if_read=())
    assert outcome.status is Status.FAIL
    assert "STD0000123" in outcome.message


def test_contact_active_archived_merged_and_gdpr_fail() -> None:
    assert (
        contact_active(contact=make_contact(status="ARCHIVED"), candidates_if_read=()).status
        is Status.FAIL
    )
    merged = contact_active(
        contact=make_contact(status="ARCHIVED", merged_to="abc"), candidates_if_read=()
    )
    assert merged.status is Status.FAIL
    assert "merged into" in merged.message
    assert (
        contact_active(contact=make_contact(status="GDPRREQUEST"), candidates_if_read=()).status
        is Status.FAIL
    )
    assert contact_active(contact=make_contact(), candidates_if_read=()).status is Status.PASS


def test_contact_duplicates_active_lookalike_without_code_fails() -> None:
    own = make_contact()
    dup = make_contact(contact_id="dup", contact_number="", email="other@example.com")
    outcome = contact_duplicates(
        learner=make_learner(), contact=own, candidates=(own, dup), lookalike_invoices=()
    )
    assert outcome.status is Status.FAIL
    assert outcome.links == ("https://go.xero.com/Contacts/View/dup",)


def test_contact_duplicates_passing_says_what_was_searched_in_plain_words() -> None:
    own = make_contact()
    other = make_contact(contact_id="o", contact_number="STD0000999", email="o@example.com")
    said = [
        contact_duplicates(
            learner=make_learner(), contact=own, candidates=found, lookalike_invoices=()
        ).message
        for found in ((), (own,), (own, other))
    ]
    assert said == [
        "no contact was found by name or email: no look-alike",
        "the 1 contact found by name and email is not a look-alike",
        "none of the 2 contacts found by name and email is a look-alike",
    ]


def test_contact_duplicates_lost_code_advises_setting_it() -> None:
    survivor = make_contact(contact_id="s", contact_number="")
    outcome = contact_duplicates(
        learner=make_learner(), contact=None, candidates=(survivor,), lookalike_invoices=()
    )
    assert outcome.status is Status.FAIL
    assert outcome.fix is not None
    assert "STD0000123" in outcome.fix


def test_contact_duplicates_ignores_other_learners_and_warns_on_archived() -> None:
    other_learner = make_contact(contact_id="o", contact_number="STD0000999")
    archived = make_contact(contact_id="a", contact_number="", status="ARCHIVED")
    learner = make_learner()
    assert (
        contact_duplicates(
            learner=learner, contact=None, candidates=(other_learner,), lookalike_invoices=()
        ).status
        is Status.PASS
    )
    assert (
        contact_duplicates(
            learner=learner, contact=None, candidates=(archived,), lookalike_invoices=()
        ).status
        is Status.WARN
    )


def test_contact_in_sync_lists_differences() -> None:
    outcome = contact_in_sync(learner=make_learner(), contact=make_contact(email="old@example.com"))
    assert outcome.status is Status.WARN
    assert outcome.evidence["differences"] == [
        {"field": "email", "wisenet": "jane.citizen@example.com", "xero": "old@example.com"}
    ]
    decorated = make_contact(name="Jane Citizen (STD0000123)")
    assert contact_in_sync(learner=make_learner(), contact=decorated).status is Status.PASS


def test_invoice_type_bill_fails_credit_note_passes() -> None:
    from diagnose.evidence import Evidence, RawEvidence
    from diagnose.model import Subject, SubjectKind

    def seen_from(kind: SubjectKind) -> Evidence:
        return Evidence(RawEvidence(subject=Subject(kind, "x"), mode="sandbox", tenant="t"))

    asked = seen_from(SubjectKind.INVOICE)
    assert invoice_type(invoice=make_invoice(type="ACCPAY"), evidence=asked).status is Status.FAIL
    bill = invoice_type(
        invoice=make_invoice(type="ACCPAY"), evidence=seen_from(SubjectKind.LEARNER)
    )
    assert bill.status is Status.WARN  # from the learner's side a bill blocks nothing
    note = invoice_type(invoice=make_invoice(type="ACCRECCREDIT"), evidence=asked)
    assert note.status is Status.PASS


def test_invoice_status_draft_and_submitted_fail_unknown_warns() -> None:
    for status in ("DRAFT", "SUBMITTED"):
        assert invoice_status(invoice=make_invoice(status=status)).status is Status.FAIL
    for status in ("AUTHORISED", "PAID", "VOIDED", "DELETED"):
        assert invoice_status(invoice=make_invoice(status=status)).status is Status.PASS
    assert invoice_status(invoice=make_invoice(status="QUEUED")).status is Status.WARN


def test_invoice_contact_code_missing_fails() -> None:
    outcome = invoice_contact_code(
        invoice=make_invoice(), invoice_contact=make_contact(contact_number="")
    )
    assert outcome.status is Status.FAIL
    assert (
        invoice_contact_code(invoice=make_invoice(), invoice_contact=make_contact()).status
        is Status.PASS
    )


def test_invoice_contact_merged_away_fails() -> None:
    merged = make_contact(status="ARCHIVED", merged_to="survivor")
    assert (
        invoice_contact_merged(invoice=make_invoice(), invoice_contact=merged).status is Status.FAIL
    )


def _row(**changes: object) -> WisenetInvoice:
    row = WisenetInvoice(
        "22222222-2222-2222-2222-222222222222", 123, "INV-0042", "AUTHORISED", 1850.0
    )
    return replace(row, **changes)  # type: ignore[arg-type]


def test_invoice_in_wisenet_missing_out_of_date_and_listed() -> None:
    invoice, learner = make_invoice(), make_learner()
    assert (
        invoice_in_wisenet(invoice=invoice, invoice_learner=learner, wisenet_invoices=()).status
        is Status.FAIL
    )
    stale = invoice_in_wisenet(
        invoice=invoice, invoice_learner=learner, wisenet_invoices=(_row(status="DRAFT"),)
    )
    assert stale.status is Status.FAIL
    assert "status DRAFT in Wisenet" in stale.message
    short = invoice_in_wisenet(
        invoice=invoice, invoice_learner=learner, wisenet_invoices=(_row(total=100.0),)
    )
    assert short.status is Status.FAIL
    assert "total" in short.message
    listed = invoice_in_wisenet(
        invoice=invoice, invoice_learner=learner, wisenet_invoices=(_row(invoice_id=""),)
    )
    assert listed.status is Status.PASS


def test_alerts_clear_acknowledged_alerts_do_not_count() -> None:
    from diagnose.evidence import Evidence, RawEvidence
    from diagnose.model import Subject, SubjectKind

    raw = RawEvidence(Subject(SubjectKind.LEARNER, "123"), "sandbox", "t")
    raw.payloads["wisenet.learner"] = {
        "LearnerId": 123,
        "Personal": {"LearnerNumber": "STD0000123"},
    }
    evidence = Evidence(raw)
    done = EventAlert(
        "Learner Sync errors", "Email address must be valid.", "STD0000123", None, True
    )
    open_ = EventAlert("Learner Sync errors", "NZCountry unknown", "std0000123", None, False)
    assert (
        alerts_clear(target=LEARNER_TARGET, alerts=(done,), invoice=None, evidence=evidence).status
        is Status.PASS
    )
    assert (
        alerts_clear(
            target=LEARNER_TARGET, alerts=(done, open_), invoice=None, evidence=evidence
        ).status
        is Status.FAIL
    )
    assert (
        alerts_clear(target=LEARNER_TARGET, alerts=None, invoice=None, evidence=evidence).status
        is Status.SKIP
    )
    other = EventAlert("Invoice Sync errors", "Contact archived", "INV-0042", None, False)
    said = [
        alerts_clear(target=LEARNER_TARGET, alerts=given, invoice=None, evidence=evidence).message
        for given in ((), (done,), (done, other))
    ]
    assert said == [  # said for none, one and many, as a person would
        "the Event Alerts given hold no alert",
        "the 1 alert given is not open for this record",
        "none of 2 alerts is open for this record",
    ]


def test_contact_found_a_learner_without_refinternal_cannot_match() -> None:
    outcome = contact_found(
        learner=make_learner(learner_number=""), contact=None, candidates_if_read=()
    )
    assert outcome.status is Status.FAIL
    assert "no RefInternal" in outcome.message


def test_a_merge_chain_names_the_contact_that_survived_it() -> None:
    a = make_contact(contact_id="a", status="ARCHIVED", merged_to="b")
    b = make_contact(
        contact_id="b", contact_number="", name="Jane C", status="ARCHIVED", merged_to="c"
    )
    c = make_contact(contact_id="c", contact_number="", name="Jane Citizen (2)", status="ACTIVE")
    outcome = contact_active(contact=a, candidates_if_read=(a, b, c))
    assert outcome.status is Status.FAIL
    assert "was merged into Jane Citizen (2) (c) and archived" in outcome.message
    assert outcome.evidence["merged_to"] == "c"  # not the archived contact in the middle
    alone = contact_active(contact=a, candidates_if_read=(a,))
    assert "was merged into contact b" in alone.message  # all that is known
