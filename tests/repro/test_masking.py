"""The reproduction's one masking function: learnt secrets hidden in every form they take."""

from __future__ import annotations

import json

from kit.repro.masking import Masker
from kit.secrets import MASK


def test_a_learnt_value_is_hidden_as_written_escaped_and_url_encoded() -> None:
    masker = Masker()
    masker.add_value('p@ss "w<rd>')
    text = (
        'plain p@ss "w<rd> | json '
        + json.dumps('p@ss "w<rd>')
        + " | url p%40ss%20%22w%3Crd%3E | html p@ss &quot;w&lt;rd&gt;"
    )
    masked = masker.text(text)
    assert masked == f'plain {MASK} | json "{MASK}" | url {MASK} | html {MASK}'


def test_values_too_short_to_tell_from_words_are_not_learnt() -> None:
    masker = Masker()
    masker.add_value(" ab ")
    assert masker.secrets == set()
    assert masker.text("ab abc") == "ab abc"


def test_a_secret_url_gives_only_its_password() -> None:
    masker = Masker()
    masker.add_secret("mysql://shop:s3cret-pw@db.example.com:3306/shop")
    assert masker.text("db.example.com s3cret-pw") == f"db.example.com {MASK}"
    masker.add_secret("hunter22")
    assert masker.text("said hunter22") == f"said {MASK}"


def test_an_environment_teaches_its_secret_keys_and_url_passwords() -> None:
    masker = Masker()
    masker.add_env(
        {
            "API_TOKEN": "tok-12345",
            "GREETING": "hello world",
            "BACKUP_URL": "https://shop:url-pw-1@backups.example.com/shop",
        }
    )
    assert masker.keys == {"API_TOKEN"}
    assert masker.text("tok-12345 hello world url-pw-1") == f"{MASK} hello world {MASK}"
    env = masker.env({"API_TOKEN": "other", "GREETING": "hello tok-12345", "N": "7"})
    assert env == {"API_TOKEN": MASK, "GREETING": f"hello {MASK}", "N": "7"}


def test_every_value_of_the_customers_env_file_is_a_secret_but_short_ones_only_by_key() -> None:
    masker = Masker()
    masker.add_env(
        {"SHOP_NAME": "acme-shop", "REGION": "west", "PORT_NUMBER": "1234567"}, all_secret=True
    )
    assert masker.keys == {"SHOP_NAME", "REGION", "PORT_NUMBER"}
    # "west" and a number would mask ordinary words of a log; they are masked beside their key.
    assert masker.text("acme-shop in west on 1234567") == f"{MASK} in west on 1234567"
    assert masker.env({"REGION": "west", "PORT_NUMBER": "1234567"}) == {
        "REGION": MASK,
        "PORT_NUMBER": MASK,
    }


def test_a_file_that_does_not_parse_still_gives_its_secrets() -> None:
    masker = Masker()
    masker.add_text(
        'www:\n  environment:\n    DB_PASSWORD: "yaml-pw-1"\n    NAME: shop\n'
        '  {"api_key": "json-key-1", broken\nSESSION_SECRET=env-secret-1\n'
        "  url: redis://root:redis-pw-1@localhost:6379\n"
    )
    text = "yaml-pw-1 json-key-1 env-secret-1 redis-pw-1 shop"
    assert masker.text(text) == " ".join([MASK] * 4) + " shop"


def test_passwords_in_urls_are_masked_even_when_never_learnt() -> None:
    assert (
        Masker().text("redis://root:unknown-pw@host:6379/0") == f"redis://root:{MASK}@host:6379/0"
    )
