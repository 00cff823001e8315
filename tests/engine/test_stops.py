from app.engine.stops import StopMatcher


def test_text_before_a_stop_string_is_shown_and_the_rest_dropped():
    m = StopMatcher(["###"])
    out = []
    for chunk in ["Hel", "lo #", "#", "# more"]:
        text, hit = m.feed(chunk)
        out.append(text)
        if hit:
            break
    assert "".join(out) == "Hello " and hit


def test_a_partial_match_is_released_when_it_does_not_complete():
    m = StopMatcher(["STOP"])
    assert m.feed("ab ST") == ("ab ", False)
    assert m.feed("x") == ("STx", False)
    assert m.flush() == ""


def test_no_stops_passes_text_through():
    assert StopMatcher([]).feed("anything") == ("anything", False)
