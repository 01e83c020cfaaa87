"""Names in every script we read, inside running text: scripts written with spaces between
words (a name is a whole word) and without them (a name is a run of characters that cuts no
cluster), traditional and simplified Chinese as one, letter variants and digits folded; and
the warning for a feed in a language the judgement has no words for.

The names are public figures as news writes them; each script has a case that is found, an
exclusion that hides it, and a different name or a cut cluster that is not found.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import cli
from monitor.config import language_warnings, load_config
from monitor.judge.lexicon import language_packs
from monitor.judge.match import Matcher, MatchResult
from monitor.judge.scripts import SCRIPTS, ends_clean, script_of, starts_clean
from monitor.judge.textnorm import normalize
from monitor.model import Case, Entry, Subject

REPO = Path(__file__).resolve().parents[1]


def match(aliases: tuple[str, ...], text: str, exclusions: tuple[str, ...] = ()) -> MatchResult:
    subject = Subject("Subject", aliases=aliases, exclusions=exclusions, cases=("c",))
    matcher = Matcher([subject], [Case("c", "Case", ("Subject",))])
    entry = Entry(id="e", source="test", title=text, link="", published=datetime(2024, 1, 1, tzinfo=UTC))
    return matcher.match(entry)


def found(aliases: tuple[str, ...], text: str, exclusions: tuple[str, ...] = ()) -> bool:
    return match(aliases, text, exclusions).people == ("Subject",)


# --- found inside running text -------------------------------------------------------------

FOUND = [
    # Chinese: a simplified alias in traditional text and a traditional alias in simplified.
    ("zh-hant", ("刘晓波",), "諾貝爾和平獎得主劉曉波在獄中病逝"),
    ("zh-hans", ("劉曉波",), "诺贝尔和平奖得主刘晓波在狱中病逝"),
    ("zh-mixed", ("劉晓波",), "劉曉波的妻子劉霞"),
    ("zh-name-then-case", ("黎智英",), "香港法院今日就黎智英案宣判"),
    ("zh+latin", ("Jimmy Lai",), "Jimmy Lai 黎智英案今日宣判"),
    ("latin+zh", ("黎智英",), "Jimmy Lai 黎智英案今日宣判"),
    ("latin-touching-han", ("Jimmy Lai",), "香港Jimmy Lai案"),
    ("zh-spaced-name", ("安倍 晋三",), "安倍晋三元首相が銃撃された"),
    ("ja-kanji", ("安倍晋三",), "安倍晋三元首相が銃撃された"),
    ("ja-katakana", ("ゴーン",), "カルロス・ゴーン被告がレバノンに逃亡"),
    ("ja-hiragana-particle", ("ゴーン",), "日産のゴーンは"),
    ("th", ("ทักษิณ ชินวัตร",), "นายทักษิณ ชินวัตร อดีตนายกรัฐมนตรี เดินทางกลับประเทศไทย"),
    ("th-no-space", ("ทักษิณ ชินวัตร",), "นายทักษิณชินวัตรเดินทางกลับประเทศไทย"),
    ("lo", ("ທອງລຸນ ສີສຸລິດ",), "ທ່ານ ທອງລຸນ ສີສຸລິດ ປະທານປະເທດ ໄດ້ກ່າວວ່າ"),
    ("my", ("အောင်ဆန်းစုကြည်",), "နိုင်ငံတော်၏အတိုင်ပင်ခံပုဂ္ဂိုလ်ဒေါ်အောင်ဆန်းစုကြည်ကို ထောင်ဒဏ်ချမှတ်"),
    ("km", ("កឹម សុខា",), "លោកកឹមសុខាត្រូវបានដោះលែង"),
    ("bo", ("ཏཱ་ལའི་བླ་མ་",), "ཏཱ་ལའི་བླ་མ་མཆོག་གིས་གསུངས།"),
    ("bo-particle", ("ཏཱ་ལའི་བླ་མ",), "ཏཱ་ལའི་བླ་མའི་གསུང་།"),  # genitive written onto the syllable
    ("bo-shad", ("བསྟན་འཛིན་རྒྱ་མཚོ་",), "རྒྱལ་བ་བསྟན་འཛིན་རྒྱ་མཚོ།"),
    ("ru", ("Олег Орлов",), "Суд приговорил: Олег Орлов получил срок"),
    ("ru-upper", ("Олег Орлов",), "ОЛЕГ ОРЛОВ ОСУЖДЁН"),
    ("fa-arabic-letters", ("نرگس محمدي",), "نرگس محمدی برنده جایزه صلح نوبل شد"),
    ("fa-tatweel", ("نرگس محمدی",), "خانم نرگس محمـــدي"),
    ("fa-kaf", ("کریمی",), "علي كريمي بازداشت شد"),
    ("fa-zwnj", ("علی اکبر",), "علی‌اکبر در دادگاه"),  # a zero-width non-joiner is a half space
    ("tr-dotted", ("İdris",), "idris yargılanıyor"),
    ("tr-dotted-upper", ("idris",), "İDRİS YARGILANIYOR"),
    ("tr-dotless", ("Kırımlı",), "KIRIMLI davası"),
    ("tr-dotless-reverse", ("KIRIMLI",), "Kırımlı'nın davası"),
]


@pytest.mark.parametrize(("script", "aliases", "text"), FOUND, ids=[f[0] for f in FOUND])
def test_a_name_is_found_inside_running_text(script: str, aliases: tuple[str, ...], text: str) -> None:
    assert found(aliases, text), script


def test_both_names_of_mixed_text_are_found_where_they_are() -> None:
    result = match(("Jimmy Lai", "黎智英"), "Jimmy Lai 黎智英案今日宣判")
    text = result.fields["title"]
    assert [(m.alias, text[m.start:m.end]) for m in result.mentions] == [
        ("Jimmy Lai", "jimmy lai"), ("黎智英", "黎智英"),
    ]


def test_offsets_in_traditional_text_point_at_the_name() -> None:
    title = "諾貝爾和平獎得主劉曉波在獄中病逝"
    result = match(("刘晓波",), title)
    (mention,) = result.mentions
    assert len(result.fields["title"]) == len(title)  # one character in, one out
    assert title[mention.start:mention.end] == "劉曉波"


# --- an exclusion hides the name it contains, in every script ------------------------------

EXCLUDED = [
    ("zh", ("王军",), ("王军霞",), "王軍霞打破世界紀錄"),  # Wang Junxia the runner, not Wang Jun
    ("zh-hant-exclusion", ("王軍",), ("王軍霞",), "王军霞打破世界纪录"),
    ("ja", ("ゴーン",), ("ゴーンガール",), "映画ゴーンガールを観た"),
    ("th", ("ทักษิณ",), ("มหาวิทยาลัยทักษิณ",), "นักศึกษามหาวิทยาลัยทักษิณจัดงาน"),  # Thaksin University
    ("lo", ("ສີສຸລິດ",), ("ຖະໜົນສີສຸລິດ",), "ລົດຕິດຢູ່ຖະໜົນສີສຸລິດ"),
    ("my", ("အောင်ဆန်း",), ("အောင်ဆန်းစုကြည်",), "ဒေါ်အောင်ဆန်းစုကြည်ကို"),  # the daughter, not the general
    ("km", ("សុខា",), ("សណ្ឋាគារសុខា",), "សណ្ឋាគារសុខាបើកជាថ្មី"),
    ("bo", ("ཏཱ་ལའི་བླ་མ",), ("ཏཱ་ལའི་བླ་མའི་ཕོ་བྲང",), "ཏཱ་ལའི་བླ་མའི་ཕོ་བྲང་གིས་བསྒྲགས།"),
    ("ru", ("Орлов",), ("город Орлов",), "В город Орлов приехали"),  # the town in Kirov oblast
    ("fa", ("محمدی",), ("محمدی‌نژاد",), "علی محمدی‌نژاد"),
    ("tr", ("Kavala",), ("Yunanistan'ın Kavala",), "Yunanistan'ın Kavala kentinde"),  # the Greek city
]


@pytest.mark.parametrize(
    ("script", "aliases", "exclusions", "text"), EXCLUDED, ids=[e[0] for e in EXCLUDED]
)
def test_an_exclusion_hides_the_name_inside_it(
    script: str, aliases: tuple[str, ...], exclusions: tuple[str, ...], text: str
) -> None:
    assert found(aliases, text), f"{script}: the alias alone must be found, or the test proves nothing"
    assert not found(aliases, text, exclusions), script


def test_an_exclusion_does_not_hide_the_name_elsewhere_in_unspaced_text() -> None:
    assert found(("王军",), "王軍霞與王軍同場", ("王军霞",))
    assert found(("အောင်ဆန်း",), "ဒေါ်အောင်ဆန်းစုကြည်၏ဖခင်ဗိုလ်ချုပ်အောင်ဆန်း", ("အောင်ဆန်းစုကြည်",))


# --- not the name: a different name sharing characters, or a cut cluster --------------------

NOT_FOUND = [
    ("zh-other-name", ("刘晓波",), "刘晓明大使会见记者"),
    ("zh-other-name-hant", ("黎智英",), "黎智明出席記者會"),
    ("ja-prolonged-mark", ("マリ",), "マリーさんが来た"),  # Marie, not Mari
    ("ja-small-kana", ("リチ",), "リチャード・ニクソン"),  # a small kana closes the mora before it
    ("th-following-vowel", ("กมล",), "กมลา แฮร์ริส กล่าวว่า"),  # Kamala, not Kamon
    ("th-leading-vowel", ("ลา",), "ต้นเลา"),  # the vowel written before "ล" belongs to it
    ("lo-vowel-sign", ("ສີສຸລ",), "ທ່ານ ທອງລຸນ ສີສຸລິດ"),
    ("my-asat", ("အောင်ဆန",), "ဗိုလ်ချုပ်အောင်ဆန်း"),
    ("my-other-name", ("အောင်ဆန်း",), "ဗိုလ်ချုပ်မှူးကြီးမင်းအောင်လှိုင်"),
    ("my-stacked", ("ဂလာ",), "မင်္ဂလာ"),  # starts on a consonant stacked under the one before
    ("km-vowel-sign", ("កឹម សុខ",), "លោកកឹមសុខាត្រូវ"),
    ("km-subscript", ("តា",), "ស្តា"),
    ("bo-prefix", ("སྟན་འཛིན",), "བསྟན་འཛིན་རྒྱ་མཚོ"),  # starts after the syllable's prefix letter
    ("bo-other-name", ("བསྟན་འཛིན་རྒྱ་མཚོ",), "བསྟན་འཛིན་ཚེ་རིང་"),
    ("bo-vowel-sign", ("ཏཱ་ལ",), "ཏཱ་ལི་"),
    ("ru-longer-word", ("Орлов",), "Олег Орловский"),
    ("fa-longer-word", ("محمدی",), "محمدیان"),
    ("tr-longer-word", ("İdris",), "İdrisoğlu"),
    ("hi-vowel-sign", ("राम",), "रामा"),  # Devanagari: a vowel sign after the name is part of its word
]


@pytest.mark.parametrize(("script", "aliases", "text"), NOT_FOUND, ids=[n[0] for n in NOT_FOUND])
def test_a_different_name_or_a_cut_cluster_is_not_found(script: str, aliases: tuple[str, ...], text: str) -> None:
    assert not found(aliases, text), script


# --- the rule per script ----------------------------------------------------------------------


def test_the_script_table_has_no_overlapping_ranges() -> None:
    ranges = sorted((start, end, s.name) for s in SCRIPTS for start, end in s.ranges)
    for (_, end, name), (start, _, other) in zip(ranges, ranges[1:], strict=False):
        assert end < start, f"{name} and {other} overlap"


@pytest.mark.parametrize(
    ("char", "spaced"),
    [("a", True), ("é", True), ("ж", True), ("ی", True), ("א", True), ("क", True), ("한", True), ("7", True),
     ("中", False), ("𠀋", False), ("あ", False), ("ア", False), ("ก", False), ("ກ", False), ("ཀ", False),
     ("က", False), ("ក", False)],
)
def test_which_scripts_write_spaces_between_words(char: str, spaced: bool) -> None:
    assert script_of(char).spaced is spaced


def test_clean_edges_in_the_middle_of_unspaced_text() -> None:
    text = "刘晓波在狱中"
    assert starts_clean(text, 3) and ends_clean(text, 3)
    assert not starts_clean("ស្តា", 2)  # after COENG
    assert not ends_clean("กมลา", 3)  # before SARA AA
    assert not starts_clean("เลา", 1)  # after a vowel written before its consonant
    assert not starts_clean("ກິ", 1)  # on a vowel sign
    assert not ends_clean("ກາ", 1)  # before a Lao vowel that is a letter
    assert not ends_clean("\u1004\u103a\u1039\u1002", 3)  # on a virama that stacks the next consonant


# --- the normal form ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("劉曉波", "刘晓波"),
        ("諾貝爾和平獎", "诺贝尔和平奖"),
        ("臺灣", "台湾"),
        ("İdris", "idris"),
        ("KIRIMLI", "Kırımlı"),
        ("IŞIK", "ışık"),
        ("محمدي", "محمدی"),
        ("كريمي", "کریمی"),
        ("محمـــدی", "محمدی"),
    ],
)
def test_variants_fold_to_one_form(a: str, b: str) -> None:
    assert normalize(a) == normalize(b)


def test_chinese_folds_character_for_character() -> None:
    text = "香港特別行政區終審法院駁回黎智英的上訴"
    assert len(normalize(text)) == len(text)
    assert normalize(text) == "香港特别行政区终审法院驳回黎智英的上诉"


@pytest.mark.parametrize(
    "digits",
    ["٢٠٢٤", "۲۰۲۴", "२०२४", "๒๐๒๔", "໒໐໒໔", "༢༠༢༤", "၂၀၂၄", "២០២៤"],
    ids=["arabic", "persian", "devanagari", "thai", "lao", "tibetan", "myanmar", "khmer"],
)
def test_digits_fold_to_ascii(digits: str) -> None:
    assert normalize(digits) == "2024"


def test_the_dot_of_capital_i_is_gone() -> None:
    assert normalize("İSTANBUL İdris") == "istanbul idris"


# --- languages the judgement has no words for -----------------------------------------------

# Appended to the shipped feeds.yaml, whose list items are indented by two spaces.
FEED_IN_THAI = """
  - name: Prachatai Archive
    url: https://archive.example/th/feed
    language: th
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "config", tmp_path / "config")
    feeds = tmp_path / "config" / "feeds.yaml"
    feeds.write_text(feeds.read_text(encoding="utf-8").rstrip("\n") + "\n" + FEED_IN_THAI, encoding="utf-8")
    return tmp_path


def invoke(config: Path, data: Path, *args: str) -> Result:
    argv = ["--config", str(config), "--baseline", str(REPO / "baseline"), *args]
    return CliRunner().invoke(cli, argv, env={"MONITOR_DATA_DIR": str(data)}, catch_exceptions=False)


def test_the_languages_with_words_are_listed_once() -> None:
    assert {"en", "km", "zh"} <= language_packs()
    assert "th" not in language_packs()


def test_the_shipped_feeds_are_all_in_languages_with_words() -> None:
    config = load_config(REPO / "config", REPO / "baseline")
    assert language_warnings(config.config_dir, config.feeds, language_packs()) == []


def test_config_check_warns_of_a_feed_in_a_language_without_words(site: Path) -> None:
    feeds = site / "config" / "feeds.yaml"
    line = next(i for i, text in enumerate(feeds.read_text(encoding="utf-8").splitlines(), 1)
                if "Prachatai Archive" in text)
    result = invoke(site / "config", site / "data", "config", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: ")
    warnings = [w for w in result.stderr.splitlines() if "warning" in w]
    assert warnings == [
        f"{feeds}:{line}: warning: feed 'Prachatai Archive': language 'th' has no language pack: "
        "entries in it are matched by name but no development can be read from them"
    ]


def rss(path: Path, language: str | None, titles: list[str]) -> Path:
    items = "".join(
        f"<item><guid>{path.stem}-{i}</guid><title>{escape(t)}</title>"
        f"<pubDate>0{i + 1} Jan 2024 09:00:00 +0000</pubDate></item>"
        for i, t in enumerate(titles)
    )
    lang = f"<language>{language}</language>" if language else ""
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>https://t.example/</link><description>d</description>{lang}{items}</channel></rss>",
        encoding="utf-8",
    )
    return path


def test_scan_warns_once_per_language_without_words(tmp_path: Path) -> None:
    zh = rss(tmp_path / "zh.xml", "zh-TW", ["黎智英案今日宣判", "香港天氣", "劉曉波逝世七周年"])
    zh_cn = rss(tmp_path / "zh-cn.xml", "zh-CN", ["刘晓波"])
    th = rss(tmp_path / "th.xml", "th", ["ทักษิณ ชินวัตร เดินทางกลับ"])
    en = rss(tmp_path / "en.xml", "en-us", ["Kem Sokha sentenced"])
    km = rss(tmp_path / "km.xml", "km", ["កឹម សុខា"])
    result = invoke(REPO / "config", tmp_path / "data", "scan", str(zh), str(zh_cn), str(th), str(en), str(km))
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 7
    warnings = [w for w in result.stderr.splitlines() if "language pack" in w]
    assert warnings == [
        f"monitor: warning: language '{code}' has no language pack: "
        "entries in it are matched by name but no development can be read from them"
        for code in ("th",)
    ]
