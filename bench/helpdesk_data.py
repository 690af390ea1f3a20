"""Fill one tenant with a busy helpdesk: 1,000,000 tickets, 5,000,000 messages.

Run from the repository root (see bench/README.md)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench \\
        .venv/bin/python bench/helpdesk_data.py [--tickets 1000000] [--reset]

Inside the schema of the tenant ``bench1m`` (provisioned with ``tenant_provision`` if it
does not exist): 8 departments with categories, 60 agents and managers made with
``accounts.services.user_create``, 20,000 customers (bulk insert, one precomputed password
hash), 200 organisations, then the tickets, their messages (5 per ticket on average, a
sixth of them internal notes) and one ``created`` history row per ticket, written with
COPY in batches of ``--batch`` tickets, one transaction per batch.

Texts are Persian, Arabic and English sentences built from the word lists below, with
the keyboard variety the search has to fold (Arabic ي/ك in Persian text, ZWNJ joined,
dropped or typed as a space, Persian and Arabic-Indic digits). A few words have a known
share of tickets (``SEARCH_WORDS``), so the search benchmark can ask for a common word
(about 10 % of tickets), a rare one and a Persian word typed with Arabic letters.

``search_document`` is what the app writes: the lexemes of ``helpdesk.text.tokenize`` over
subject, tracking code, requester name and email and every message's text (public and
internal). Each sentence of the corpus is tokenised once with the app's own ``tokenize``;
a ticket's document is the union of its pieces' tokens, COPYed as tsvector text. The run
ends by re-tokenising a sample of tickets from what is stored and comparing.

Resumable: batches commit one by one and ticket number ``i`` always gets the same
tracking code and timestamps, so a second run continues where an interrupted one
stopped; with the target already reached it does nothing. ``--reset`` deletes the
tenant's tickets (and their messages, history, attachments and outbox) first.
"""

from __future__ import annotations

import argparse
import collections
import html
import io
import itertools
import math
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent


def repository_on_path() -> None:
    """Run as a script, this folder is sys.path[0] and its helpdesk.py would shadow the
    app's helpdesk package: put the repository root there instead.

    Not done at import: the django-helpdesk peer loads this module (for its word lists)
    from another virtualenv, where ``helpdesk`` must stay django-helpdesk.
    """
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


def progress(message: str) -> None:
    """A line on stderr while the run goes (minutes); stdout carries only the report."""
    print(message, file=sys.stderr, flush=True)


SLUG = "bench1m"
TENANT_NAME = "Bench 1M"
EMAIL_DOMAIN = "bench1m.example.com"  # agents and the owner; customers use public domains
OWNER_EMAIL = f"owner@{EMAIL_DOMAIN}"
# Everyone made here shares it (bench data only): agents can sign in to look around.
BENCH_PASSWORD = "bench-helpdesk-password-1"
TICKETS = 1_000_000
MESSAGES_PER_TICKET = 5
CUSTOMERS = 20_000
GUEST_SHARE = 0.10  # tickets by email from people without an account
AGENTS = 54
MANAGERS = 6
ORGANISATIONS = 200
YEARS = 3
BATCH = 20_000
SEED = 20_26
VERIFY_SAMPLE = 300

# --- the corpus -----------------------------------------------------------------------
# Words whose share of tickets is set here (not left to chance), for the search bench.
# share = of all tickets; each lives in one language's tickets.
SEARCH_WORDS = {
    "fa_common": "مشکل",  # "problem", ~10 % of tickets
    "en_common": "problem",  # ~10 % of tickets
    "ar_common": "مشكلة",  # ~6 % of tickets
    "fa_arabic_letters": "پیامک",  # "text message", ~3 %; searched as «پيامك»
}
FA_COMMON_SHARE_IN_FA = 0.20  # fa tickets are half of all: 10 % overall
EN_COMMON_SHARE_IN_EN = 0.40  # en tickets are 30 %: ~10 % overall
AR_COMMON_SHARE_IN_AR = 0.30  # ar tickets are 20 %: 6 % overall
FA_SMS_SHARE_IN_FA = 0.06  # 3 % overall
RARE_SHARE = 0.004  # a ticket mentions one of RARE_WORDS[lang]: ~100 tickets per word
LANGUAGE_WEIGHTS = {"fa": 0.5, "ar": 0.2, "en": 0.3}
ARABIC_KEYBOARD_SHARE = 0.30  # Persian tickets typed with ي and ك
ZWNJ_JOINED_SHARE = 0.25  # «میخواهم» for «می‌خواهم»
ZWNJ_SPACE_SHARE = 0.10  # «می خواهم»
LATIN_DIGITS_SHARE = 0.25  # Persian/Arabic text with 0-9 instead of its own digits

RARE_WORDS = {
    "en": [
        "kaleidoscope", "zeppelin", "quasar", "marzipan", "xylophone", "platypus",
        "obsidian", "narwhal", "tamarind", "sarsaparilla", "ocelot", "vermilion",
        "gossamer", "halcyon", "juniper",
    ],
    "fa": [
        "سنجاقک", "زعفرانیه", "کهکشان", "آبشار", "شاه‌توت", "کاریکاتور", "قلمدان",
        "سمرقند", "زمرد", "فیروزه‌کوه", "شقایق", "گلپر", "تخت‌جمشید", "لاجورد", "اسطرلاب",
    ],
    "ar": ["الزعفران", "الفيروز", "المرجان", "الياقوت", "الزنجبيل", "القرنفل", "العنبر"],
}  # fmt: skip
RARE_TEMPLATES = {
    "en": ["The package was labelled {rare}.", "The error page mentioned {rare}."],
    "fa": ["روی بسته نوشته شده بود {rare}.", "در صفحه خطا کلمه {rare} دیده می‌شود."],
    "ar": ["كان مكتوبا على الطرد {rare}.", "ظهرت كلمة {rare} في صفحة الخطأ."],
}

FA_NOUNS = [
    "سفارش", "فاکتور", "حساب کاربری", "رمز عبور", "اپلیکیشن", "سایت", "درگاه پرداخت",
    "کارت بانکی", "اشتراک", "کیف پول", "کد تخفیف", "گارانتی", "کالای مرجوعی", "مودم",
    "گوشی", "لپ‌تاپ", "کیبورد", "نرم‌افزار", "سرویس", "بسته اینترنت", "شارژ", "قبض",
    "آدرس", "شماره تماس", "ایمیل", "کد تأیید", "صورت‌حساب", "پنل کاربری", "VPN",
    "Wi-Fi", "اپ Android", "نسخه iOS", "ارسال مرسوله", "بازگشت وجه",
]  # fmt: skip
FA_VERBS = [
    "کار نمی‌کند", "باز نمی‌شود", "ارسال نشده است", "پرداخت شده ولی ثبت نشده",
    "هنوز به دستم نرسیده", "تأیید نمی‌شود", "خطا می‌دهد", "قطع شده است", "خیلی کند است",
    "فعال نشده", "غیرفعال شده", "تمدید نشده", "لغو شده ولی پول برنگشته", "دوبار کسر شده",
    "نمایش داده نمی‌شود", "اشتباه ثبت شده", "به‌روزرسانی نمی‌شود",
]  # fmt: skip
FA_CUSTOMER = [
    "سلام، {n} من {v}.",
    "با سلام و احترام، از دیروز {n} {v}.",
    "لطفا بررسی کنید چرا {n} {v}.",
    "شماره سفارش من {num} است و {n} {v}.",
    "هفته پیش {n} را خریدم اما {v}.",
    "می‌خواهم بدانم وضعیت {n} چیست.",
    "آیا امکان دارد {n} را تغییر دهم؟",
    "چند بار تماس گرفتم ولی کسی جواب نداد.",
    "لطفا هر چه سریع‌تر پیگیری کنید.",
    "ممنون از پاسخگویی شما.",
    "مبلغ {num} تومان از حساب من کسر شد.",
    "کد پیگیری پرداخت {num} است.",
    "از {n} راضی نیستم و درخواست بازگشت وجه دارم.",
    "هنوز جوابی دریافت نکرده‌ام، {n} همچنان {v}.",
    "امروز دوباره امتحان کردم و {n} {v}.",
    "نمی‌توانم وارد {n} شوم.",
]
FA_STAFF = [
    "سلام، وقت شما بخیر. درخواست شما در خصوص {n} بررسی شد.",
    "لطفا شماره سفارش و شماره تماس خود را ارسال کنید.",
    "همکاران ما در حال بررسی {n} هستند و نتیجه اطلاع‌رسانی خواهد شد.",
    "{n} شما مجدداً فعال شد، لطفا دوباره امتحان کنید.",
    "مبلغ {num} تومان ظرف ۷۲ ساعت به حساب شما برگشت داده می‌شود.",
    "از شکیبایی شما سپاسگزاریم.",
    "در صورت نیاز به راهنمایی بیشتر با ما در تماس باشید.",
    "لطفا یک تصویر از صفحه {n} برای ما بفرستید.",
    "تغییرات انجام شد و {n} به‌روز شد.",
]
FA_INTERNAL = [
    "به واحد مالی ارجاع شد.",
    "مشتری قبلاً هم درباره {n} تیکت ثبت کرده بود.",
    "لاگ‌های سرور بررسی شد، خطای {num} دیده می‌شود.",
    "منتظر پاسخ تأمین‌کننده هستیم.",
    "با تیم فنی هماهنگ شد، {n} در صف بررسی است.",
]
FA_COMMON = [  # the controlled common word «مشکل», also inside «مشکلات» and «مشکل‌دار»
    "با {n} مشکل دارم.",
    "مشکل {n} هنوز حل نشده است.",
    "این مشکل بعد از آخرین به‌روزرسانی شروع شد.",
    "مشکلات {n} تمامی ندارد.",
    "{n} مشکل‌دار است.",
]
FA_SMS = ["پیامک کد تأیید برای من ارسال نمی‌شود.", "پیامک پرداخت را دریافت نکردم."]
FA_SUBJECTS = [
    "{n} {v}",
    "درخواست بررسی {n}",
    "پیگیری {n}",
    "سوال درباره {n}",
    "{n}",
    "خرابی {n}",
]

AR_NOUNS = [
    "الطلب", "الفاتورة", "الحساب", "كلمة المرور", "التطبيق", "الموقع", "بوابة الدفع",
    "البطاقة المصرفية", "الاشتراك", "المحفظة", "رمز الخصم", "الضمان", "الشحنة", "الراوتر",
    "الهاتف", "البرنامج", "الخدمة", "الرصيد", "العنوان", "رقم الهاتف", "البريد الإلكتروني",
    "رمز التحقق", "لوحة التحكم", "استرداد المبلغ",
]  # fmt: skip
AR_VERBS = [
    "لا يعمل", "لا يفتح", "لم يتم إرساله", "تم الدفع ولم يتم التسجيل", "لم أستلمه بعد",
    "يظهر خطأ", "متوقف", "بطيء جدا", "لم يتم تفعيله", "تم إلغاؤه ولم يتم استرداد المبلغ",
    "تم الخصم مرتين", "لا يظهر",
]  # fmt: skip
AR_CUSTOMER = [
    "السلام عليكم، {n} {v}.",
    "مرحبا، منذ أمس {n} {v}.",
    "أرجو التحقق من سبب أن {n} {v}.",
    "رقم طلبي {num} و{n} {v}.",
    "أريد معرفة حالة {n}.",
    "هل يمكن تغيير {n}؟",
    "تم خصم مبلغ {num} ريال من حسابي.",
    "شكرا لكم.",
    "أرجو المتابعة بأسرع وقت.",
    "حاولت مرة أخرى اليوم و{n} {v}.",
]
AR_STAFF = [
    "مرحبا، شكرا لتواصلك معنا. تمت مراجعة طلبك بخصوص {n}.",
    "يرجى إرسال رقم الطلب ورقم الهاتف.",
    "تمت إعادة تفعيل {n}، يرجى المحاولة مرة أخرى.",
    "سيتم استرداد مبلغ {num} ريال خلال ٣ أيام عمل.",
    "نشكرك على صبرك.",
    "لا تتردد في التواصل معنا إذا احتجت أي مساعدة.",
]
AR_INTERNAL = [
    "تم التحويل إلى القسم المالي.",
    "العميل فتح تذكرة سابقة بخصوص {n}.",
    "تم فحص سجلات الخادم، يظهر الخطأ {num}.",
]
AR_COMMON = ["لدي مشكلة في {n}.", "المشكلة في {n} ما زالت قائمة.", "هذه المشكلة تتكرر كل يوم."]
AR_SUBJECTS = ["{n} {v}", "استفسار عن {n}", "متابعة {n}", "{n}"]

EN_NOUNS = [
    "order", "invoice", "account", "password", "mobile app", "website", "payment gateway",
    "credit card", "subscription", "wallet", "discount code", "warranty", "return",
    "router", "phone", "laptop", "keyboard", "software license", "service", "data plan",
    "bill", "shipping address", "phone number", "email address", "verification code",
    "dashboard", "refund", "delivery", "VPN", "Wi-Fi",
]  # fmt: skip
EN_VERBS = [
    "does not work", "will not open", "was never shipped", "was charged but not recorded",
    "has not arrived", "shows an error", "keeps disconnecting", "is very slow",
    "was not activated", "was cancelled but not refunded", "was charged twice",
    "is not displayed", "got stuck",
]  # fmt: skip
EN_CUSTOMER = [
    "Hi, my {n} {v}.",
    "Hello team, since yesterday my {n} {v}.",
    "Could you please check why my {n} {v}?",
    "My order number is {num} and the {n} {v}.",
    "I would like to know the status of my {n}.",
    "Is it possible to change my {n}?",
    "I called several times but nobody answered.",
    "Please look into this as soon as possible.",
    "Thanks for your help.",
    "An amount of {num} was charged to my card.",
    "Payment reference: {num}.",
    "I tried again today and the {n} still {v}.",
    "I can't sign in to my {n}.",
]
EN_STAFF = [
    "Hi, thanks for reaching out. We have checked your request about the {n}.",
    "Could you send us your order number and phone number?",
    "Your {n} has been reactivated, please try again.",
    "The amount of {num} will be refunded within 3 business days.",
    "Thanks for your patience.",
    "Let us know if you need anything else.",
    "Could you send us a screenshot of the {n} page?",
]
EN_INTERNAL = [
    "Escalated to the finance team.",
    "Customer opened a ticket about the {n} before.",
    "Checked the server logs, error {num} shows up.",
    "Waiting for the supplier to answer.",
]
EN_COMMON = [
    "I have a problem with my {n}.",
    "The same problem happened again with the {n}.",
    "This problem started after the last update.",
    "There are problems with the {n} again.",
]
EN_SUBJECTS = ["{n} {v}", "Question about my {n}", "Follow-up: {n}", "{n}", "Help with {n}"]

CORPUS = {
    "fa": {
        "nouns": FA_NOUNS, "verbs": FA_VERBS, "customer": FA_CUSTOMER, "staff": FA_STAFF,
        "internal": FA_INTERNAL, "common": FA_COMMON, "subjects": FA_SUBJECTS,
    },
    "ar": {
        "nouns": AR_NOUNS, "verbs": AR_VERBS, "customer": AR_CUSTOMER, "staff": AR_STAFF,
        "internal": AR_INTERNAL, "common": AR_COMMON, "subjects": AR_SUBJECTS,
    },
    "en": {
        "nouns": EN_NOUNS, "verbs": EN_VERBS, "customer": EN_CUSTOMER, "staff": EN_STAFF,
        "internal": EN_INTERNAL, "common": EN_COMMON, "subjects": EN_SUBJECTS,
    },
}  # fmt: skip

FA_FIRST = [
    ("علی", "ali"), ("محمد", "mohammad"), ("حسین", "hossein"), ("رضا", "reza"),
    ("مهدی", "mahdi"), ("سارا", "sara"), ("مریم", "maryam"), ("زهرا", "zahra"),
    ("فاطمه", "fatemeh"), ("نرگس", "narges"), ("امیر", "amir"), ("پریسا", "parisa"),
    ("کیان", "kian"), ("آرش", "arash"), ("سپیده", "sepideh"), ("الهام", "elham"),
    ("حمید", "hamid"), ("مجید", "majid"), ("شیرین", "shirin"), ("یاسمن", "yasaman"),
]  # fmt: skip
FA_LAST = [
    ("احمدی", "ahmadi"), ("محمدی", "mohammadi"), ("حسینی", "hosseini"), ("رضایی", "rezaei"),
    ("کریمی", "karimi"), ("موسوی", "mousavi"), ("جعفری", "jafari"), ("صادقی", "sadeghi"),
    ("رحیمی", "rahimi"), ("قاسمی", "ghasemi"), ("نوری", "nouri"), ("کاظمی", "kazemi"),
    ("اکبری", "akbari"), ("یزدانی", "yazdani"), ("شریفی", "sharifi"),
]  # fmt: skip
AR_FIRST = [
    ("أحمد", "ahmed"), ("محمد", "mohammed"), ("خالد", "khalid"), ("عمر", "omar"),
    ("علي", "ali"), ("فاطمة", "fatima"), ("عائشة", "aisha"), ("مريم", "mariam"),
    ("يوسف", "yousef"), ("سلمى", "salma"), ("ليلى", "layla"), ("حسن", "hassan"),
]  # fmt: skip
AR_LAST = [
    ("العتيبي", "alotaibi"), ("الحربي", "alharbi"), ("القحطاني", "alqahtani"),
    ("الزهراني", "alzahrani"), ("الشمري", "alshammari"), ("المطيري", "almutairi"),
    ("الدوسري", "aldosari"), ("الغامدي", "alghamdi"), ("السبيعي", "alsubaie"),
    ("الكعبي", "alkaabi"),
]  # fmt: skip
EN_FIRST = [(n, n.lower()) for n in (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Sarah", "Daniel", "Emma", "Oliver", "Sophia", "Liam", "Olivia",
)]  # fmt: skip
EN_LAST = [(n, n.lower()) for n in (
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Roberts",
    "Walker", "Wright", "Clarke", "Hughes", "Green",
)]  # fmt: skip
NAMES = {"fa": (FA_FIRST, FA_LAST), "ar": (AR_FIRST, AR_LAST), "en": (EN_FIRST, EN_LAST)}
EMAIL_DOMAINS = {
    "fa": ["gmail.com", "yahoo.com", "chmail.ir", "mail.ir", "example.ir"],
    "ar": ["gmail.com", "hotmail.com", "outlook.sa", "example.sa"],
    "en": ["gmail.com", "outlook.com", "yahoo.com", "example.co.uk", "example.com"],
}

DEPARTMENTS = [
    # slug, name, share of tickets, categories
    ("general", "General support", 0.25, ["Question", "Problem", "Request"]),
    ("billing", "Billing", 0.18, ["Invoices", "Refunds", "Payment failed", "Plans"]),
    ("technical", "Technical support", 0.20, ["Bug", "Outage", "Integration", "Performance"]),
    ("sales", "Sales", 0.08, ["Quote", "Upgrade", "Partnership"]),
    ("shipping", "Shipping", 0.12, ["Late delivery", "Damaged", "Returns"]),
    ("accounts", "Accounts and sign-in", 0.08, ["Password", "Two-factor", "Closure"]),
    ("mobile", "Mobile app", 0.06, ["Android", "iOS", "Notifications"]),
    ("enterprise", "Enterprise", 0.03, ["Onboarding", "SLA", "Security review"]),
]
TAGS = ["vip", "refund", "urgent", "bug", "outage", "invoice", "feedback", "فوری", "پیگیری"]
CHANNELS = [("portal", 0.45), ("email", 0.40), ("api", 0.05), ("agent", 0.05), ("phone", 0.03),
            ("chat", 0.02)]  # fmt: skip
# impact and urgency (1 low .. 3 high); priority follows ITIL's matrix like ticket_create.
IMPACT_WEIGHTS = [0.55, 0.35, 0.10]
URGENCY_WEIGHTS = [0.25, 0.55, 0.20]

FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
AR_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
ARABIC_KEYBOARD = str.maketrans({"ی": "ي", "ک": "ك"})
ZWNJ = "\u200c"
# COPY text format: none of these may appear in generated text (checked when pools are built).
COPY_SPECIAL = ("\\", "\t", "\n", "\r")


@dataclass(frozen=True)
class Piece:
    """A sentence as typed (text and its HTML) and the app's search tokens for it."""

    text: str
    html: str
    tokens: frozenset[str]


def piece(text: str, *, tokens: bool = True) -> Piece:
    if any(ch in text for ch in COPY_SPECIAL):
        raise ValueError(f"corpus text needs COPY escaping: {text!r}")
    if tokens:
        from helpdesk.text import tokenize

        found = frozenset(tokenize(text))
    else:  # the peer (django-helpdesk) keeps no search document
        found = frozenset()
    return Piece(text=text, html=html.escape(text, quote=False), tokens=found)


def _number(rng: random.Random, lang: str) -> str:
    digits = str(rng.randint(10_000, 9_999_999))
    if lang == "en" or rng.random() < LATIN_DIGITS_SHARE:
        return digits
    return digits.translate(FA_DIGITS if lang == "fa" else AR_DIGITS)


def _keyboard_variant(rng: random.Random, text: str) -> str:
    """ZWNJ as typed by different people: kept, dropped (joined) or a space."""
    if ZWNJ not in text:
        return text
    r = rng.random()
    if r < ZWNJ_JOINED_SHARE:
        return text.replace(ZWNJ, "")
    if r < ZWNJ_JOINED_SHARE + ZWNJ_SPACE_SHARE:
        return text.replace(ZWNJ, " ")
    return text


def _fill(rng: random.Random, lang: str, template: str) -> str:
    words = CORPUS[lang]
    text = template.format(
        n=rng.choice(words["nouns"]), v=rng.choice(words["verbs"]), num=_number(rng, lang)
    )
    return _keyboard_variant(rng, text) if lang == "fa" else text


@dataclass
class Corpus:
    """Pools of ready sentences per language and role; tokens computed once per sentence."""

    pools: dict[tuple[str, str], list[Piece]] = field(default_factory=dict)

    def pick(self, rng: random.Random, lang: str, role: str) -> Piece:
        return rng.choice(self.pools[(lang, role)])


def corpus_build(*, seed: int = SEED, per_template: int = 60, tokens: bool = True) -> Corpus:
    """Every template filled ``per_template`` times (numbers, nouns, ZWNJ variants)."""
    rng = random.Random(seed)
    corpus = Corpus()
    for lang, words in CORPUS.items():
        for role in ("customer", "staff", "internal", "common", "subjects"):
            texts = {_fill(rng, lang, t) for t in words[role] for _ in range(per_template)}
            corpus.pools[(lang, role)] = [piece(t, tokens=tokens) for t in sorted(texts)]
        rare = [
            template.format(rare=word)
            for word in RARE_WORDS[lang]
            for template in RARE_TEMPLATES[lang]
        ]
        corpus.pools[(lang, "rare")] = [
            piece(_keyboard_variant(rng, t), tokens=tokens) for t in rare
        ]
    corpus.pools[("fa", "sms")] = [piece(t, tokens=tokens) for t in FA_SMS]
    return corpus


# --- setup ----------------------------------------------------------------------------


def tenant_ensure():
    """The bench tenant: reused when present, else provisioned like a signup."""
    from tenants.context import public_schema
    from tenants.models import Tenant
    from tenants.provisioning import OwnerDetails, tenant_provision

    with public_schema():
        tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is not None:
        return tenant, False
    owner = OwnerDetails(name="Bench Owner", email=OWNER_EMAIL, password=BENCH_PASSWORD)
    return tenant_provision(name=TENANT_NAME, slug=SLUG, owner=owner), True


def pool_refills_forget(since: datetime) -> None:
    """tenant_provision queued a pool refill for a worker that doesn't run here: do it now."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from tenants.context import public_schema
    from tenants.provisioning import pool_fill
    from tenants.tasks import pool_refill

    with public_schema():
        DBTaskResult.objects.filter(
            task_path=pool_refill.module_path,
            status=TaskResultStatus.READY,
            enqueued_at__gte=since,
        ).delete()
    pool_fill()


@dataclass
class Person:
    id: int | None
    name: str
    email: str
    lang: str
    tokens: frozenset[str]  # of "name email", part of every ticket document they request
    organisation_id: int | None = None


@dataclass
class People:
    departments: list[tuple[int, float, list[int]]]  # id, ticket share, category ids
    members: dict[int, list[Person]]  # department id -> its agents
    customers: list[Person]
    guests: list[Person]
    status_ids: dict[str, list[int]]  # stage -> status ids (default first)


def _person_name(rng: random.Random, lang: str) -> tuple[str, str]:
    firsts, lasts = NAMES[lang]
    (first, first_latin), (last, last_latin) = rng.choice(firsts), rng.choice(lasts)
    return f"{first} {last}", f"{first_latin}.{last_latin}"


def _person(*, pk, name, email, lang, organisation_id=None) -> Person:
    from helpdesk.text import tokenize

    return Person(
        id=pk, name=name, email=email, lang=lang, organisation_id=organisation_id,
        tokens=frozenset(tokenize(f"{name} {email}")),
    )  # fmt: skip


def _language(rng: random.Random) -> str:
    return rng.choices(list(LANGUAGE_WEIGHTS), weights=list(LANGUAGE_WEIGHTS.values()))[0]


def departments_ensure() -> list:
    from helpdesk.models import Category, Department

    departments = []
    for slug, name, _share, categories in DEPARTMENTS:
        department, _ = Department.objects.get_or_create(slug=slug, defaults={"name": name})
        for position, category in enumerate(categories):
            Category.objects.get_or_create(
                department=department, name=category, defaults={"position": position}
            )
        departments.append(department)
    return departments


def staff_ensure(departments: list) -> None:
    """60 agents and managers through the app's user service, each in one or two teams."""
    from accounts.models import Role, User
    from accounts.services import user_create
    from helpdesk.models import DepartmentMember

    if User.objects.filter(email=f"agent01@{EMAIL_DOMAIN}").exists():
        return
    rng = random.Random(SEED + 1)
    shares = [share for _slug, _name, share, _c in DEPARTMENTS]
    managers = [
        user_create(
            email=f"manager{i:02d}@{EMAIL_DOMAIN}", password=BENCH_PASSWORD,
            name=f"Manager {i:02d}", role=Role.MANAGER, email_verified=True,
        )
        for i in range(1, MANAGERS + 1)
    ]  # fmt: skip
    for i, department in enumerate(departments):
        department.manager = managers[i % len(managers)]
        department.save(update_fields=["manager"])
    # Every department gets at least three agents; the rest follow its share of tickets.
    homes = [d for d in departments for _ in range(3)]
    homes += rng.choices(departments, weights=shares, k=AGENTS - len(homes))
    for i, home in enumerate(homes, start=1):
        lang = _language(rng)
        name, _ = _person_name(rng, lang)
        agent = user_create(
            email=f"agent{i:02d}@{EMAIL_DOMAIN}", password=BENCH_PASSWORD, name=name,
            role=Role.AGENT, email_verified=True,
        )  # fmt: skip
        agent.language = lang
        agent.save(update_fields=["language"])
        DepartmentMember.objects.create(department=home, user=agent)
        if rng.random() < 0.2:  # a second team, tier 2 there
            other = rng.choice([d for d in departments if d != home])
            DepartmentMember.objects.create(department=other, user=agent, tier=2)


def customers_ensure() -> None:
    """20,000 customers (one hash for all), 200 organisations, profiles for members."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Role, User
    from helpdesk.models import CustomerProfile, Organisation

    if User.objects.filter(role=Role.CUSTOMER, email__startswith="c00001.").exists():
        return
    rng = random.Random(SEED + 2)
    password = make_password(BENCH_PASSWORD)
    now = timezone.now()
    with transaction.atomic():
        organisations = Organisation.objects.bulk_create(
            Organisation(
                name=f"Organisation {i:03d}", is_vip=rng.random() < 0.05,
                email_domains=[f"org{i:03d}.example.com"],
            )
            for i in range(1, ORGANISATIONS + 1)
        )  # fmt: skip
        users, profiles = [], []
        for i in range(1, CUSTOMERS + 1):
            lang = _language(rng)
            name, handle = _person_name(rng, lang)
            organisation = rng.choice(organisations) if rng.random() < 0.25 else None
            domain = (
                organisation.email_domains[0] if organisation else rng.choice(EMAIL_DOMAINS[lang])
            )
            users.append(
                User(
                    email=f"c{i:05d}.{handle}@{domain}", name=name, language=lang,
                    role=Role.CUSTOMER, password=password, date_joined=now,
                )
            )  # fmt: skip
            profiles.append(organisation)
        User.objects.bulk_create(users, batch_size=2000)
        EmailAddress.objects.bulk_create(
            (EmailAddress(user=u, email=u.email, primary=True, verified=True) for u in users),
            batch_size=2000,
        )
        CustomerProfile.objects.bulk_create(
            (
                CustomerProfile(
                    user=user, organisation=org, is_vip=org.is_vip,
                    sees_organisation_tickets=rng.random() < 0.3,
                )
                for user, org in zip(users, profiles, strict=True)
                if org is not None
            ),
            batch_size=2000,
        )  # fmt: skip


def people_load() -> People:
    from accounts.models import Role, User
    from helpdesk.models import Category, Department, DepartmentMember, TicketStatus

    shares = {slug: share for slug, _name, share, _c in DEPARTMENTS}
    departments = []
    for department in Department.objects.filter(slug__in=shares).order_by("pk"):
        categories = list(
            Category.objects.filter(department=department)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        departments.append((department.pk, shares[department.slug], categories))
    members: dict[int, list[Person]] = {}
    for member in DepartmentMember.objects.select_related("user").order_by("pk"):
        user = member.user
        members.setdefault(member.department_id, []).append(
            _person(pk=user.pk, name=user.name, email=user.email, lang=user.language or "en")
        )
    customers = [
        _person(pk=pk, name=name, email=email, lang=lang or "en", organisation_id=org)
        for pk, name, email, lang, org in User.objects.filter(role=Role.CUSTOMER)
        .exclude(email=OWNER_EMAIL)
        .order_by("pk")
        .values_list("pk", "name", "email", "language", "customer_profile__organisation")
    ]
    rng = random.Random(SEED + 3)
    guests = []
    for i in range(50_000):
        lang = _language(rng)
        name, handle = _person_name(rng, lang)
        email = f"g{i:05d}.{handle}@{rng.choice(EMAIL_DOMAINS[lang])}"
        guests.append(_person(pk=None, name=name, email=email, lang=lang))
    status_ids: dict[str, list[int]] = {}
    for status in TicketStatus.objects.order_by("-is_default", "position"):
        status_ids.setdefault(status.category, []).append(status.pk)
    return People(departments, members, customers, guests, status_ids)


# --- tickets --------------------------------------------------------------------------

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # helpdesk.references.ALPHABET
_CODE_MULTIPLIER = 0x5DEECE66D  # odd: i -> i * M mod 2**40 is a bijection
_CODE_SALT = 0x9E3779B97F


def reference_for(index: int) -> str:
    """Ticket number ``index`` -> a unique, random-looking code in the app's format."""
    value = ((index * _CODE_MULTIPLIER) % (1 << 40)) ^ _CODE_SALT
    chars = [ALPHABET[(value >> (5 * k)) & 31] for k in range(7, -1, -1)]
    return "".join(chars[:4]) + "-" + "".join(chars[4:])


def _tsvector(tokens) -> str:
    """A tsvector literal of bare lexemes (what array_to_tsvector makes), COPY-escaped."""
    parts = []
    for token in tokens:
        if "'" in token or "\\" in token:
            token = token.replace("\\", "\\\\").replace("'", "''")
        parts.append("'" + token + "'")
    return " ".join(parts).replace("\\", "\\\\")


def _ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


@dataclass
class Plan:
    """What a run writes: the window of time the tickets spread over and the target."""

    total: int
    start: float
    end: float
    messages_per_ticket: int = MESSAGES_PER_TICKET

    def created_at(self, index: int, rng: random.Random) -> float:
        """Volume doubles over the years: invert the CDF of a linearly growing density."""
        u = min(max((index + rng.random()) / self.total, 0.0), 1.0)
        x = -1 + math.sqrt(1 + 3 * u)  # density ∝ 1 + x, CDF (x + x²/2) / 1.5
        return self.start + x * (self.end - self.start)


def _stage(rng: random.Random, age_days: float) -> str:
    active = 0.6 if age_days < 30 else 0.3 if age_days < 120 else 0.12
    if rng.random() < active:
        return rng.choices(("new", "open", "pending"), weights=(0.2, 0.5, 0.3))[0]
    return "resolved" if rng.random() < 0.25 else "closed"


def _message_counts(rng: random.Random, n: int, per_ticket: int) -> list[int]:
    """Between 1 and 20 messages each, skewed, adding up to exactly ``n * per_ticket``."""
    counts = [min(20, 1 + int(rng.expovariate(1 / (per_ticket - 1)))) for _ in range(n)]
    diff = n * per_ticket - sum(counts)
    while diff:
        i = rng.randrange(n)
        if diff > 0 and counts[i] < 20:
            counts[i] += 1
            diff -= 1
        elif diff < 0 and counts[i] > 1:
            counts[i] -= 1
            diff += 1
    return counts


@dataclass
class BatchRows:
    tickets: io.StringIO = field(default_factory=io.StringIO)
    messages: io.StringIO = field(default_factory=io.StringIO)
    events: io.StringIO = field(default_factory=io.StringIO)
    ticket_count: int = 0
    message_count: int = 0


TICKET_COLUMNS = (
    "id, reference, subject, stage, priority, impact, urgency, tier, channel, requester_email, "
    "requester_name, tags, custom_fields, created_at, updated_at, first_response_at, "
    "resolved_at, closed_at, search_document, assignee_id, category_id, department_id, "
    "organisation_id, requester_id, status_id"
)
MESSAGE_COLUMNS = (
    "ticket_id, kind, author_id, author_name, author_email, from_staff, channel, body_html, "
    "body_text, mentions, created_at"
)
EVENT_COLUMNS = "ticket_id, actor_id, kind, data, is_public, created_at"
NULL = "\\N"
COPY_NEWLINE = "\\n"  # a newline inside a COPY text field


def batch_generate(
    *, first_index: int, first_id: int, count: int, plan: Plan, people: People, corpus: Corpus
) -> BatchRows:
    """Rows for tickets number ``first_index`` .. ``+count`` with ids from ``first_id``."""
    from helpdesk.priorities import MATRIX
    from helpdesk.text import tokenize

    rng = random.Random(SEED * 1_000_003 + first_index)
    rows = BatchRows()
    tickets, messages, events = rows.tickets, rows.messages, rows.events
    channels = [name for name, _share in CHANNELS]
    channel_weights = list(itertools.accumulate(share for _name, share in CHANNELS))
    departments = people.departments
    department_weights = list(itertools.accumulate(share for _pk, share, _c in departments))
    customer_weights = _customer_weights(len(people.customers))
    impact_weights = list(itertools.accumulate(IMPACT_WEIGHTS))
    urgency_weights = list(itertools.accumulate(URGENCY_WEIGHTS))
    counts = _message_counts(rng, count, plan.messages_per_ticket)
    pick = corpus.pick
    day = 86_400.0
    for offset in range(count):
        index, ticket_id = first_index + offset, first_id + offset
        created = plan.created_at(index, rng)
        age_days = (plan.end - created) / day
        stage = _stage(rng, age_days)
        dept_id, _share, categories = rng.choices(departments, cum_weights=department_weights)[0]
        agents = people.members[dept_id]
        if rng.random() < GUEST_SHARE:
            requester = rng.choice(people.guests)
        else:
            requester = rng.choices(people.customers, cum_weights=customer_weights)[0]
        lang = requester.lang if rng.random() < 0.9 else _language(rng)
        impact = rng.choices((1, 2, 3), cum_weights=impact_weights)[0]
        urgency = rng.choices((1, 2, 3), cum_weights=urgency_weights)[0]
        priority = int(MATRIX[(impact, urgency)])
        assigned = rng.random() < (0.4 if stage == "new" else 0.9)
        assignee = rng.choice(agents) if assigned else None
        channel = rng.choices(channels, cum_weights=channel_weights)[0]
        reference = reference_for(index)

        # What this ticket talks about: controlled words first, then filler.
        common = rng.random() < {
            "fa": FA_COMMON_SHARE_IN_FA, "en": EN_COMMON_SHARE_IN_EN, "ar": AR_COMMON_SHARE_IN_AR,
        }[lang]  # fmt: skip
        sms = lang == "fa" and rng.random() < FA_SMS_SHARE_IN_FA
        rare = rng.random() < RARE_SHARE
        arabic_keyboard = lang == "fa" and rng.random() < ARABIC_KEYBOARD_SHARE

        subject_piece = pick(rng, lang, "common" if common and rng.random() < 0.3 else "subjects")
        subject = subject_piece.text.rstrip(".")[:200]
        if arabic_keyboard:
            subject = subject.translate(ARABIC_KEYBOARD)
        doc = set(tokenize(subject))
        doc.update(tokenize(reference))
        doc.update(requester.tokens)

        n_messages = counts[offset]
        span = min(age_days, rng.choice((0.2, 1.0, 3.0, 7.0, 20.0))) * day
        times = sorted(created + rng.random() * span for _ in range(n_messages - 1))
        times.insert(0, created)
        first_response = None
        customer_extra: list[Piece] = []
        if common:
            customer_extra.append(pick(rng, lang, "common"))
        if sms:
            customer_extra.append(pick(rng, "fa", "sms"))
        if rare:
            customer_extra.append(pick(rng, lang, "rare"))
        for m in range(n_messages):
            if m == 0:
                role = "customer"
            else:
                r = rng.random()
                role = "internal" if r < 0.2 else "staff" if r < 0.65 else "customer"
            if role == "customer":
                parts = [pick(rng, lang, "customer") for _ in range(rng.randint(1, 3))]
                if customer_extra and (m == 0 or rng.random() < 0.5):
                    parts.insert(rng.randint(0, len(parts)), customer_extra.pop())
                author = requester
            else:
                parts = [pick(rng, lang, role) for _ in range(rng.randint(1, 2))]
                author = assignee or rng.choice(agents)
            for part in parts:
                doc.update(part.tokens)
            if role == "customer" and arabic_keyboard:
                paragraphs = [p.text.translate(ARABIC_KEYBOARD) for p in parts]
                htmls = [p.html.translate(ARABIC_KEYBOARD) for p in parts]
            else:
                paragraphs = [p.text for p in parts]
                htmls = [p.html for p in parts]
            from_staff = role != "customer"
            if role == "staff" and first_response is None:
                first_response = times[m]
            messages.write(
                f"{ticket_id}\t{'internal' if role == 'internal' else 'public'}\t"
                f"{author.id if author.id else NULL}\t{author.name}\t{author.email}\t"
                f"{'t' if from_staff else 'f'}\t{'agent' if from_staff else channel}\t"
                f"<p>{'</p><p>'.join(htmls)}</p>\t{COPY_NEWLINE.join(paragraphs)}\t"
                f"{{}}\t{_ts(times[m])}\n"
            )
        resolved = closed = None
        updated = times[-1]
        if stage in ("resolved", "closed"):
            resolved = min(updated + rng.random() * 2 * day, plan.end)
            updated = resolved
            if stage == "closed":  # closed automatically three days after resolving
                closed = updated = min(resolved + 3 * day, plan.end)
        status_id = people.status_ids[stage][0 if stage != "pending" or rng.random() < 0.8 else -1]
        tags = "{}"
        if rng.random() < 0.3:
            tags = "{" + ",".join(sorted(set(rng.sample(TAGS, rng.randint(1, 2))))) + "}"
        category_id = rng.choice(categories) if categories and rng.random() < 0.85 else None
        tier = 2 if rng.random() < 0.1 else 1
        tickets.write(
            f"{ticket_id}\t{reference}\t{subject}\t{stage}\t{priority}\t{impact}\t{urgency}\t"
            f"{tier}\t{channel}\t{requester.email}\t{requester.name}\t{tags}\t{{}}\t"
            f"{_ts(created)}\t{_ts(updated)}\t"
            f"{_ts(first_response) if first_response else NULL}\t"
            f"{_ts(resolved) if resolved else NULL}\t{_ts(closed) if closed else NULL}\t"
            f"{_tsvector(doc)}\t{assignee.id if assignee else NULL}\t"
            f"{category_id or NULL}\t{dept_id}\t{requester.organisation_id or NULL}\t"
            f"{requester.id or NULL}\t{status_id}\n"
        )
        events.write(
            f"{ticket_id}\t{requester.id or NULL}\tcreated\t"
            f'{{"channel": "{channel}"}}\tt\t{_ts(created)}\n'
        )
        rows.message_count += n_messages
    rows.ticket_count = count
    return rows


_weights_cache: dict[int, list[float]] = {}


def _customer_weights(n: int) -> list[float]:
    """Cumulative weights: a few customers write a lot, most write a little (Zipf-ish)."""
    if n not in _weights_cache:
        total, cumulative = 0.0, []
        for rank in range(1, n + 1):
            total += 1 / rank**0.6
            cumulative.append(total)
        _weights_cache[n] = cumulative
    return _weights_cache[n]


def _ids_reserve(cursor, table: str, count: int) -> int:
    """Take ``count`` consecutive ids from ``table``'s identity sequence; the first one."""
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
        "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
        [table, table, count],
    )
    return cursor.fetchone()[0] - count + 1


def _copy(cursor, table: str, columns: str, data: bytes) -> None:
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        chunk = 1 << 20
        for start in range(0, len(data), chunk):
            copy.write(data[start : start + chunk])


def session_tune(cursor) -> None:
    """Bulk-load settings for this session only (the server's configuration is untouched).

    ``session_replication_role = replica`` skips the deferred foreign-key triggers: every
    id written here was just read from the tables it points to, and the run checks the
    references afterwards (``references_check``). A 64 MB GIN pending list merges the
    search index in fewer, larger steps (VACUUM at the end flushes what is left).
    """
    cursor.execute("SET synchronous_commit = off")
    cursor.execute("SET work_mem = '256MB'")
    cursor.execute("SET gin_pending_list_limit = '64MB'")
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if cursor.fetchone()[0]:  # else the triggers run, slower but the same data
        cursor.execute("SET session_replication_role = replica")


@dataclass
class LoadStats:
    tickets: int = 0
    messages: int = 0
    events: int = 0
    generate_s: float = 0.0  # in the generator process(es), overlapping the COPY
    copy_s: float = 0.0
    wall_s: float = 0.0


@dataclass(frozen=True)
class BatchSpec:
    first_index: int
    first_id: int
    count: int


@dataclass(frozen=True)
class BatchData:
    tickets: bytes
    messages: bytes
    events: bytes
    ticket_count: int
    message_count: int
    generate_s: float


_worker_state: dict = {}


def _worker_init(plan: Plan, people: People, corpus: Corpus) -> None:
    _worker_state.update(plan=plan, people=people, corpus=corpus)


def _worker_generate(spec: BatchSpec) -> BatchData:
    started = time.perf_counter()
    rows = batch_generate(
        first_index=spec.first_index, first_id=spec.first_id, count=spec.count,
        **_worker_state,
    )  # fmt: skip
    return BatchData(
        tickets=rows.tickets.getvalue().encode(),
        messages=rows.messages.getvalue().encode(),
        events=rows.events.getvalue().encode(),
        ticket_count=rows.ticket_count,
        message_count=rows.message_count,
        generate_s=time.perf_counter() - started,
    )


def tickets_load(
    *, schema_name: str, plan: Plan, first_index: int, batch: int, workers: int
) -> LoadStats:
    """Generator process(es) make the next batches while this one COPYs the current one.

    On 2 cores that keeps one busy with Python and the other with PostgreSQL. At most
    ``workers + 1`` batches wait in memory. Each batch is one transaction.
    """
    import multiprocessing

    from django.db import connection, connections, transaction

    from tenants.context import tenant_schema

    stats = LoadStats()
    corpus = corpus_build()
    with tenant_schema(schema_name):
        people = people_load()
        with connection.cursor() as cursor:  # ids for every ticket still to come, up front
            first_id = _ids_reserve(cursor, "helpdesk_ticket", plan.total - first_index)
    specs = [
        BatchSpec(index, first_id + index - first_index, min(batch, plan.total - index))
        for index in range(first_index, plan.total, batch)
    ]
    connections.close_all()  # the forked generators must not share this socket
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    with (
        context.Pool(workers, initializer=_worker_init, initargs=(plan, people, corpus)) as pool,
        tenant_schema(schema_name),
    ):
        waiting = collections.deque()
        upcoming = iter(specs)

        def submit() -> None:
            spec = next(upcoming, None)
            if spec is not None:
                waiting.append((spec, pool.apply_async(_worker_generate, (spec,))))

        for _ in range(workers + 1):
            submit()
        while waiting:
            spec, result = waiting.popleft()
            data = result.get()
            submit()
            t0 = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                session_tune(cursor)
                _copy(cursor, "helpdesk_ticket", TICKET_COLUMNS, data.tickets)
                _copy(cursor, "helpdesk_message", MESSAGE_COLUMNS, data.messages)
                _copy(cursor, "helpdesk_ticketevent", EVENT_COLUMNS, data.events)
            stats.copy_s += time.perf_counter() - t0
            stats.generate_s += data.generate_s
            stats.tickets += data.ticket_count
            stats.messages += data.message_count
            stats.events += data.ticket_count
            done = spec.first_index + spec.count
            elapsed = time.perf_counter() - started
            rate = stats.tickets / elapsed
            progress(
                f"  tickets {done:,}/{plan.total:,}  messages {stats.messages:,}  "
                f"{rate:,.0f} tickets/s  (generate {stats.generate_s:.0f}s, "
                f"copy {stats.copy_s:.0f}s, wall {elapsed:.0f}s)  "
                f"eta {(plan.total - done) / rate / 60:.1f} min"
            )
    stats.wall_s = time.perf_counter() - started
    return stats


def tickets_reset(schema_name: str) -> None:
    """Delete the tenant's tickets and everything hanging off them (TRUNCATE, ids restart)."""
    from django.db import connection

    from tenants.context import tenant_schema

    with tenant_schema(schema_name), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE helpdesk_ticketlink, helpdesk_attachment, helpdesk_ticketevent, "
            "helpdesk_message, helpdesk_outboundemail, helpdesk_ticket RESTART IDENTITY"
        )


def tickets_count(schema_name: str) -> int:
    from django.db import connection

    from tenants.context import tenant_schema

    with tenant_schema(schema_name), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM helpdesk_ticket")
        return cursor.fetchone()[0]


def vacuum_analyze(schema_name: str) -> float:
    """VACUUM (sets the visibility map for index-only scans, flushes GIN's pending list)."""
    from django.db import connection

    from tenants.context import tenant_schema

    started = time.perf_counter()
    with tenant_schema(schema_name), connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for table in (
            "helpdesk_ticket", "helpdesk_message", "helpdesk_ticketevent", "accounts_user",
            "account_emailaddress", "helpdesk_customerprofile", "helpdesk_departmentmember",
        ):  # fmt: skip
            progress(f"  VACUUM ANALYZE {table}...")
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - started


# --- checks ---------------------------------------------------------------------------


def documents_verify(schema_name: str, *, sample: int = VERIFY_SAMPLE) -> tuple[int, int]:
    """Re-tokenise a sample of stored tickets the way the app does; count exact matches."""
    from django.db import connection

    from helpdesk.models import Ticket
    from helpdesk.text import tokenize
    from tenants.context import tenant_schema

    with tenant_schema(schema_name):
        with connection.cursor() as cursor:
            cursor.execute("SELECT max(id) FROM helpdesk_ticket")
            top = cursor.fetchone()[0] or 0
        rng = random.Random()
        ids = {rng.randint(1, top) for _ in range(sample)}
        tickets = Ticket.objects.filter(pk__in=ids).prefetch_related("messages")
        stored = dict(
            Ticket.objects.filter(pk__in=ids)
            .extra(select={"lexemes": "tsvector_to_array(search_document)"})
            .values_list("pk", "lexemes")
        )
        good = 0
        checked = 0
        for ticket in tickets:
            headline = " ".join(
                [ticket.subject, ticket.reference, ticket.requester_name, ticket.requester_email]
            )
            expected = set(tokenize(headline))
            for message in ticket.messages.all():
                expected.update(tokenize(message.body_text))
            checked += 1
            good += expected == set(stored[ticket.pk])
    return good, checked


def references_check(schema_name: str) -> dict[str, int]:
    """Rows pointing nowhere (should all be 0: the load skipped the FK triggers)."""
    from django.db import connection

    from tenants.context import tenant_schema

    checks = {
        "messages without ticket": "SELECT count(*) FROM helpdesk_message m "
        "LEFT JOIN helpdesk_ticket t ON t.id = m.ticket_id WHERE t.id IS NULL",
        "messages with unknown author": "SELECT count(*) FROM helpdesk_message m "
        "WHERE m.author_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM accounts_user u WHERE u.id = m.author_id)",
        "events without ticket": "SELECT count(*) FROM helpdesk_ticketevent e "
        "LEFT JOIN helpdesk_ticket t ON t.id = e.ticket_id WHERE t.id IS NULL",
        "tickets with unknown people/department/status": "SELECT count(*) FROM helpdesk_ticket t "
        "WHERE (t.requester_id IS NOT NULL AND NOT EXISTS "
        "  (SELECT 1 FROM accounts_user u WHERE u.id = t.requester_id)) "
        "OR (t.assignee_id IS NOT NULL AND NOT EXISTS "
        "  (SELECT 1 FROM accounts_user u WHERE u.id = t.assignee_id)) "
        "OR NOT EXISTS (SELECT 1 FROM helpdesk_department d WHERE d.id = t.department_id) "
        "OR NOT EXISTS (SELECT 1 FROM helpdesk_ticketstatus s WHERE s.id = t.status_id)",
    }
    found = {}
    with tenant_schema(schema_name), connection.cursor() as cursor:
        for name, query in checks.items():
            cursor.execute(query)
            found[name] = cursor.fetchone()[0]
    return found


def database_size() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return cursor.fetchone()[0]


# --- main -----------------------------------------------------------------------------


def arguments_parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=TICKETS, help="target ticket count")
    parser.add_argument("--batch", type=int, default=BATCH, help="tickets per transaction")
    parser.add_argument("--reset", action="store_true", help="delete the tenant's tickets first")
    parser.add_argument(
        "--workers", type=int, default=1, help="generator processes beside the COPY one"
    )
    parser.add_argument("--no-vacuum", action="store_true", help="skip VACUUM ANALYZE")
    parser.add_argument("--no-checks", action="store_true", help="skip the checks at the end")
    args = parser.parse_args(argv)
    if min(args.tickets, args.batch, args.workers) < 1:
        parser.error("--tickets, --batch and --workers must be positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = arguments_parse(argv)
    repository_on_path()
    from bench.provisioning import database_ensure, django_configure, platform_migrate

    django_configure()
    database_ensure()
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from tenants.context import tenant_schema

    run_started = time.perf_counter()
    started_at = timezone.now()
    progress("migrating the platform (public, template, pool)...")
    platform_migrate()
    tenant, created = tenant_ensure()
    if created:
        pool_refills_forget(started_at)
    schema = tenant.schema_name
    progress(f"tenant {SLUG} ({schema}) {'provisioned' if created else 'reused'}")
    if args.reset:
        progress("--reset: deleting the tenant's tickets...")
        tickets_reset(schema)

    t0 = time.perf_counter()
    with tenant_schema(schema), transaction.atomic():
        departments = departments_ensure()
        staff_ensure(departments)
        customers_ensure()
    people_s = time.perf_counter() - t0

    existing = tickets_count(schema)
    end = datetime(2026, 11, 1, tzinfo=UTC).timestamp()  # fixed: resumed runs agree
    plan = Plan(total=args.tickets, start=end - YEARS * 365 * 86_400, end=end)
    stats = LoadStats()
    if existing >= args.tickets:
        progress(f"{existing:,} tickets already there (target {args.tickets:,}): nothing to load")
    else:
        if existing:
            progress(f"resuming after {existing:,} tickets")
        progress(f"loading tickets {existing:,}..{args.tickets:,}, {args.batch:,} a batch...")
        stats = tickets_load(
            schema_name=schema, plan=plan, first_index=existing, batch=args.batch,
            workers=args.workers,
        )  # fmt: skip
    load_s = stats.wall_s
    vacuum_s = 0.0
    if stats.tickets and not args.no_vacuum:
        progress("VACUUM ANALYZE...")
        vacuum_s = vacuum_analyze(schema)
    total_s = time.perf_counter() - run_started

    print(f"tenant {SLUG} ({schema}): {tickets_count(schema):,} tickets")
    print(f"people (departments, 60 staff, {CUSTOMERS:,} customers): {people_s:8.1f} s")
    if stats.tickets:
        print(
            f"tickets {stats.tickets:,}, messages {stats.messages:,}, events {stats.events:,}: "
            f"{load_s:.1f} s wall clock (generating {stats.generate_s:.1f} s in "
            f"{args.workers} process(es), overlapped with COPY {stats.copy_s:.1f} s)"
        )
        rows = stats.tickets + stats.messages + stats.events
        print(
            f"  {stats.tickets / load_s:,.0f} tickets/s, {stats.messages / load_s:,.0f} "
            f"messages/s, {rows / load_s:,.0f} rows/s"
        )
        print(f"VACUUM ANALYZE: {vacuum_s:.1f} s")
    print(f"whole run: {total_s:.1f} s ({total_s / 60:.1f} min)")
    print(f"database size: {database_size()}")
    if not args.no_checks:
        good, checked = documents_verify(schema)
        print(f"search documents equal to the app's tokenize(): {good}/{checked} sampled tickets")
        if stats.tickets:
            for name, count in references_check(schema).items():
                print(f"check {name}: {count}")


if __name__ == "__main__":
    main()
