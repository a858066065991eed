"""Administrator login: passwords, lockout, CSRF, logout, cookies."""

from __future__ import annotations

from adminclient import ADMIN_PASSWORD, Client


def test_login_sets_strict_httponly_cookie_and_logout_invalidates_it(client: Client) -> None:
    response = client.submit(
        "/manage/login",
        {"login_id": "admin", "password": ADMIN_PASSWORD},
        page="/manage/",
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("os_session=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http here
    old_session = client.cookies.get("os_session")
    assert "관리자페이지 이동" in client.get("/manage/").text
    client.submit("/manage/logout", page="/manage/")
    assert "관리자 로그인" in client.get("/manage/").text
    # the old cookie, replayed, no longer opens anything
    client.cookies.set("os_session", old_session)
    assert "관리자 로그인" in client.get("/manage/").text


def test_wrong_password_and_unknown_id_give_the_same_message(client: Client) -> None:
    for login_id in ("admin", "nobody"):
        response = client.submit(
            "/manage/login", {"login_id": login_id, "password": "wrong"}, page="/manage/"
        )
        assert response.status_code == 401
        assert "ID 또는 Password가 올바르지 않습니다." in response.text


def test_lockout_grows_and_refuses_even_the_right_password(client: Client) -> None:
    for _ in range(3):
        assert (
            client.submit(
                "/manage/login", {"login_id": "admin", "password": "x"}, page="/manage/"
            ).status_code
            == 401
        )
    response = client.login()
    assert response.status_code == 429
    assert "로그인 실패가 너무 많습니다" in response.text
    assert int(response.headers["Retry-After"]) >= 1
    throttle = client.app.state.login_throttle  # type: ignore[attr-defined]
    first = throttle.retry_after("admin:admin")
    throttle.clock = lambda: 10**9  # far in the future: the delay has passed
    assert client.login().status_code == 200
    assert first > 0


def test_secure_cookie_over_https(app) -> None:
    with Client(app, base_url="https://testserver") as c:
        response = c.submit(
            "/manage/login",
            {"login_id": "admin", "password": ADMIN_PASSWORD},
            page="/manage/",
            follow_redirects=False,
        )
        assert "Secure" in response.headers["set-cookie"]


def test_post_without_or_with_foreign_csrf_token_is_refused(client: Client) -> None:
    response = client.post("/manage/login", data={"login_id": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 403
    # a token made for another browser (another CSRF cookie) does not work either
    other = Client(client.app, base_url="http://testserver")  # no lifespan: the app is already running
    foreign = other.csrf()
    response = client.post(
        "/manage/login", data={"login_id": "admin", "password": ADMIN_PASSWORD, "csrf_token": foreign}
    )
    assert response.status_code == 403
    assert "입력 양식이 만료되었거나" in response.text


def test_english_by_accept_language_and_switch(client: Client) -> None:
    assert "Administrator login" in client.get("/manage/", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    assert "관리자 로그인" in client.get("/manage/").text
    client.get("/lang/en?next=/manage/")
    assert "Administrator login" in client.get("/manage/").text
    assert (
        client.get("/lang/ko?next=//evil.example", follow_redirects=False).headers["location"] == "/manage/"
    )


def test_security_headers(client: Client) -> None:
    headers = client.get("/manage/").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_lockout_per_address_across_accounts(client: Client) -> None:
    for i in range(10):
        response = client.submit("/manage/login", {"login_id": f"guess{i}", "password": "x"}, page="/manage/")
        assert response.status_code == 401
    # an eleventh account from the same address waits, even with the right password
    assert client.login().status_code == 429
