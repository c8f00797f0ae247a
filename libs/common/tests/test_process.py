import pytest

from example_common.process import KINDS, InvalidPayload, UnknownJobKind, process


def test_wordcount_counts_words_case_insensitively():
    result = process("wordcount", {"text": "The cat and the hat. The end!"})
    assert result["words"] == 7
    assert result["unique"] == 5
    assert result["top"][0] == ["the", 3]


def test_wordcount_keeps_contractions_and_hyphens():
    assert process("wordcount", {"text": "don't over-think it"})["words"] == 3


def test_wordcount_empty_text():
    assert process("wordcount", {"text": "  "}) == {"words": 0, "unique": 0, "top": []}


def test_reverse():
    assert process("reverse", {"text": "abc déf"}) == {"text": "féd cba"}


def test_unknown_kind_raises():
    with pytest.raises(UnknownJobKind, match="unknown job kind 'nope'"):
        process("nope", {"text": "x"})


@pytest.mark.parametrize("payload", [{}, {"text": 3}, None, "text"])
def test_invalid_payload_raises(payload):
    with pytest.raises(InvalidPayload):
        process("reverse", payload)


def test_kinds_lists_processors():
    assert KINDS == ("reverse", "wordcount")
