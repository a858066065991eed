import pytest
from opensupport.host.policy import (
    AUTO_CONTROL,
    CONSENT_BEFORE_CONNECT,
    CONSENT_BEFORE_INVITE,
    FILE_TRANSFER_CONSENT,
    MANUAL_REBOOT,
    NO_CONTROL,
    Feature,
    FeatureDisabled,
    HostPolicy,
)
from opensupport.server.options import OPTIONS_BY_KEY, defaults


def test_every_key_the_host_enforces_is_a_server_option() -> None:
    keys = {f.value for f in Feature if f is not Feature.CONTROL}
    keys |= {CONSENT_BEFORE_CONNECT, CONSENT_BEFORE_INVITE, AUTO_CONTROL, NO_CONTROL, MANUAL_REBOOT}
    keys |= {FILE_TRANSFER_CONSENT}
    assert keys - set(OPTIONS_BY_KEY) == set()


def test_manual_defaults_allow_every_feature_and_control() -> None:
    policy = HostPolicy(defaults())
    assert policy.allowed == frozenset(Feature)


def test_switched_off_feature_is_refused_and_missing_keys_count_as_off() -> None:
    policy = HostPolicy({**defaults(), "text_chat": False, "no_control": True})
    assert not policy.allows(Feature.CHAT)
    assert not policy.allows(Feature.CONTROL)
    with pytest.raises(FeatureDisabled, match="chat is switched off"):
        policy.require(Feature.CHAT)
    empty = HostPolicy({})
    assert empty.allowed == frozenset()
