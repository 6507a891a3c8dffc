from diagnose import parse


def test_wisenet_envelope_and_relationships_resolve_state_and_country() -> None:
    item = {
        "Data": {
            "LearnerId": 123,
            "Personal": {
                "FirstName": "Jane",
                "LastName": "Citizen",
                "LearnerNumber": "STD0000123",
                "SyncToXero": False,
                "EmailAddresses": {"Email": "jane@example.com"},
                "StreetAddress": {
                    "SuburbTownCity": "Sydney",
                    "StateId": 1,
                    "Postcode": "2000",
                    "CountryId": 1101,
                },
            },
        },
        "Relationships": {
            "States": [
                {
                    "StateId": 1,
                    "Code": "01",
                    "ShortDescription": "NSW",
                    "LongDescription": "New South Wales",
                }
            ],
            "Countries": [{"CountryId": 1101, "Code": "1101", "Description": "Australia"}],
        },
    }
    learner = parse.learner(item)
    assert learner is not None
    assert (learner.learner_id, learner.learner_number, learner.sync_to_xero) == (
        123,
        "STD0000123",
        False,
    )
    assert learner.states[1].short == "NSW"
    assert learner.countries[1101].description == "Australia"
    assert learner.street.postcode == "2000"


def test_a_bare_record_and_nulls_are_read_leniently() -> None:
    learner = parse.learner(
        {"LearnerId": "7", "Personal": {"FirstName": None, "StreetAddress": None}}
    )
    assert learner is not None
    assert (learner.learner_id, learner.first_name, learner.street.suburb) == (7, "", "")
    assert parse.learner({"Personal": {}}) is None
    for impossible in (0, -3, 10**40):  # not an id Wisenet could be asked about
        assert parse.learner({"LearnerId": impossible, "Personal": {}}) is None


def test_xero_contact_with_merge_and_odd_status() -> None:
    contact = parse.contact(
        {
            "ContactID": "abc",
            "ContactNumber": " STD1 ",
            "ContactStatus": "archived",
            "MergedToContactID": "def",
            "Addresses": [{"AddressType": "STREET", "City": "Perth"}, "x"],
            "UpdatedDateUTC": "/Date(1503348544227+0000)/",
        }
    )
    assert (contact.contact_number, contact.status, contact.merged_to) == (
        " STD1 ",  # as stored: the integration matches the spaces too
        "ARCHIVED",
        "def",
    )
    assert parse.contact({"ContactNumber": "  "}).contact_number == ""
    assert contact.street is not None
    assert contact.street.city == "Perth"
    assert contact.updated is not None
    assert contact.updated.year == 2017


def test_invoice_contact_code_is_unknown_unless_the_payload_says() -> None:
    summary = parse.invoice({"InvoiceID": "i", "Contact": {"ContactID": "c", "Name": "Jane"}})
    assert summary.contact_number is None
    full = parse.invoice(
        {
            "Contact": {"ContactID": "c", "ContactNumber": ""},
            "Total": "12.50",
            "Date": "/Date(1539993600000+0000)/",
            "LineItems": [{"Quantity": 2}],
        }
    )
    assert full.contact_number == ""
    assert full.total == 12.5
    assert full.date is not None
    assert full.date.isoformat() == "2018-10-20"
    assert full.line_items[0].quantity == 2.0
