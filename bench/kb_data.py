"""Fill one tenant's knowledge base: 10,000 Wagtail articles in en, fa and ar trees.

Run from the repository root (see bench/README.md)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench \\
        .venv/bin/python bench/kb_data.py [--articles 10000] [--reset] [--compare 50]

In the tenant ``benchkb`` (provisioned with ``tenant_provision`` if it does not exist):
40 categories (8 areas of 4 topics) in each language's tree, translations of each other;
articles half Persian, a fifth Arabic, the rest English, each a few hundred words in
several StreamField blocks (rich text with headings, lists and links, numbered steps,
callouts, code, screenshots), 1-4 tags, related articles, 5 % internal-only; a share of
the Persian and Arabic articles are translations of English ones (same translation key,
in the translated category). Some words have a set share of articles (``SEARCH_WORDS``)
for the search benchmark, bench/kb.py.

Pages are not added one by one with ``add_child`` (a query for the parent's last child,
a full_clean, a search-index and a reference-index write per page, and a revision each if
published the editor's way): each batch computes its treebeard paths with treebeard's own
``_get_path``, inserts the page rows with ``Page.objects.bulk_create``, the article rows
the way Django saves a multi-table child (its local fields only), tags and related
links with ``bulk_create``, bumps each parent's ``numchild`` once, then indexes the batch
with the search backend's ``add_bulk`` (what ``update_index`` does) and records its
references with ``ReferenceIndex.create_or_update_for_object``. Articles are published
without a revision, like pages made by an import: the first edit in the admin makes one.

Resumable: batches commit one by one and article number ``i`` always gets the same
language, category, text and slug (which ends in ``-i``), so a second run continues where
an interrupted one stopped. ``--reset`` deletes the tenant (its schema) and provisions it
again. The run ends with checks: ``Page.find_problems()``, url paths, the search index.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
import random
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
# Run as a script, this folder is sys.path[0] and bench/helpdesk.py would shadow the
# app's helpdesk package: put the repository root there instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.helpdesk_data import (  # noqa: E402
    AR_DIGITS,
    AR_NOUNS,
    AR_VERBS,
    ARABIC_KEYBOARD,
    BENCH_PASSWORD,
    EN_NOUNS,
    EN_VERBS,
    FA_DIGITS,
    FA_NOUNS,
    FA_VERBS,
    RARE_WORDS,
    _keyboard_variant,
    pool_refills_forget,
    progress,
)

SLUG = "benchkb"
TENANT_NAME = "Bench KB"
OWNER_EMAIL = f"owner@{SLUG}.example.com"
ARTICLES = 10_000
BATCH = 500
SEED = 20_26
LANGUAGES = ("en", "fa", "ar")
# Article i's language by i % 10: half Persian, a fifth Arabic, the rest English.
LANGUAGE_BY_REMAINDER = ["fa"] * 5 + ["ar"] * 2 + ["en"] * 3
PER_TEN = {lang: LANGUAGE_BY_REMAINDER.count(lang) for lang in LANGUAGES}
# The first this-many Persian / Arabic articles translate the English article of the same
# ordinal (same translation key, same category).
TRANSLATED = {"fa": 1_500, "ar": 1_000}
INTERNAL_SHARE = 0.05
RELATED_SHARE = 0.60  # articles with 1-3 related articles
PAGE_LINK_SHARE = 0.30  # articles whose text links to another article
IMAGE_SHARE = 0.20  # articles with a screenshot
CODE_SHARE = 0.25
CALLOUT_SHARE = 0.55
IMAGES = 12
ARABIC_KEYBOARD_SHARE = 0.30  # Persian articles typed with ي and ك
FEATURED_CATEGORIES = 6
FEATURED_ARTICLES = 8
YEARS = 3
END = datetime(2026, 11, 1, tzinfo=UTC)
NAMESPACE = uuid.UUID("6f1d2c1e-8a43-4c36-9b57-0c1f4e2a9b10")

# --- the corpus -----------------------------------------------------------------------
# Words whose share of a language's articles is set here, for bench/kb.py. Each has a
# sentence of its own (COMMON_SENTENCES) and appears nowhere else in the corpus.
SEARCH_WORDS = {
    "en_common": "troubleshooting",
    "fa_common": "تنظیمات",  # "settings"
    "ar_common": "الإعدادات",  # "settings"
    "fa_arabic_letters": "پیامک",  # "text message"; searched as «پيامك»
}
COMMON_SHARE = 0.30  # of the language's articles
FA_SMS_SHARE = 0.10  # of Persian articles
RARE_PER_WORD = 5  # articles per rare word (RARE_WORDS of bench/helpdesk_data.py)
COMMON_SENTENCES = {
    "en": [
        "See the troubleshooting section below if the {n} still {v}.",
        "Our troubleshooting guide covers the most common questions about the {n}.",
    ],
    "fa": [
        "اگر {n} هنوز {v}، تنظیمات آن را یک بار دیگر بررسی کنید.",
        "در بخش تنظیمات می‌توانید {n} را تغییر دهید.",
    ],
    "ar": [
        "إذا كان {n} {v}، راجع الإعدادات مرة أخرى.",
        "يمكنك تغيير {n} من صفحة الإعدادات.",
    ],
}
FA_SMS_SENTENCES = [
    "پس از این کار یک پیامک حاوی کد تأیید برای شما ارسال می‌شود.",
    "اگر پیامک به دستتان نرسید، چند دقیقه صبر کنید و دوباره درخواست دهید.",
]
RARE_SENTENCES = {
    "en": "In older versions this screen was called {rare}.",
    "fa": "در نسخه‌های قدیمی این صفحه {rare} نام داشت.",
    "ar": "في الإصدارات القديمة كانت هذه الصفحة تسمى {rare}.",
}

# 8 areas of 4 topics: 40 categories per language. (slug, en, fa, ar, icon) for areas;
# topics carry the noun their articles are about, per language.
AREAS = [
    ("account", "Account and sign-in", "حساب کاربری و ورود", "الحساب وتسجيل الدخول", "🔑"),
    ("billing", "Billing and payments", "صورت‌حساب و پرداخت", "الفواتير والدفع", "💳"),
    ("orders", "Orders and delivery", "سفارش و ارسال", "الطلبات والتوصيل", "📦"),
    ("mobile", "Mobile app", "اپلیکیشن موبایل", "تطبيق الجوال", "📱"),
    ("internet", "Internet and devices", "اینترنت و دستگاه‌ها", "الإنترنت والأجهزة", "📶"),
    ("integrations", "Integrations and API", "یکپارچه‌سازی و API", "التكامل وواجهة API", "🔌"),
    ("security", "Security and privacy", "امنیت و حریم خصوصی", "الأمان والخصوصية", "🛡"),
    ("start", "Getting started", "شروع کار", "البدء", "🚀"),
]  # fmt: skip
TOPICS = [  # per area: (slug, {lang: (category title, noun used in articles)})
    [
        ("password", {"en": ("Password", "password"), "fa": ("رمز عبور", "رمز عبور"),
                      "ar": ("كلمة المرور", "كلمة المرور")}),
        ("two-factor", {"en": ("Two-factor authentication", "two-factor code"),
                        "fa": ("ورود دومرحله‌ای", "کد ورود دومرحله‌ای"),
                        "ar": ("التحقق بخطوتين", "رمز التحقق بخطوتين")}),
        ("profile", {"en": ("Profile", "profile"), "fa": ("پروفایل", "پروفایل"),
                     "ar": ("الملف الشخصي", "الملف الشخصي")}),
        ("closing", {"en": ("Closing an account", "account"), "fa": ("بستن حساب", "حساب کاربری"),
                     "ar": ("إغلاق الحساب", "الحساب")}),
    ],
    [
        ("invoices", {"en": ("Invoices", "invoice"), "fa": ("فاکتورها", "فاکتور"),
                      "ar": ("الفواتير", "الفاتورة")}),
        ("refunds", {"en": ("Refunds", "refund"), "fa": ("بازگشت وجه", "بازگشت وجه"),
                     "ar": ("استرداد المبالغ", "استرداد المبلغ")}),
        ("payment-methods", {"en": ("Payment methods", "credit card"),
                             "fa": ("روش‌های پرداخت", "کارت بانکی"),
                             "ar": ("طرق الدفع", "البطاقة المصرفية")}),
        ("plans", {"en": ("Plans and subscriptions", "subscription"), "fa": ("اشتراک‌ها", "اشتراک"),
                   "ar": ("الباقات والاشتراكات", "الاشتراك")}),
    ],
    [
        ("tracking", {"en": ("Order tracking", "order"), "fa": ("پیگیری سفارش", "سفارش"),
                      "ar": ("تتبع الطلب", "الطلب")}),
        ("returns", {"en": ("Returns", "return"), "fa": ("مرجوعی کالا", "کالای مرجوعی"),
                     "ar": ("الإرجاع", "الشحنة المرتجعة")}),
        ("damaged", {"en": ("Damaged items", "parcel"), "fa": ("کالای آسیب‌دیده", "مرسوله"),
                     "ar": ("المنتجات التالفة", "الطرد")}),
        ("delivery", {"en": ("Delivery times", "delivery"), "fa": ("زمان ارسال", "ارسال مرسوله"),
                      "ar": ("مواعيد التوصيل", "التوصيل")}),
    ],
    [
        ("android", {"en": ("Android", "Android app"), "fa": ("اندروید", "اپ Android"),
                     "ar": ("أندرويد", "تطبيق أندرويد")}),
        ("ios", {"en": ("iPhone and iPad", "iOS app"), "fa": ("آیفون", "نسخه iOS"),
                 "ar": ("آيفون", "تطبيق iOS")}),
        ("notifications", {"en": ("Notifications", "notification"), "fa": ("اعلان‌ها", "اعلان"),
                           "ar": ("الإشعارات", "الإشعار")}),
        ("offline", {"en": ("Offline mode", "offline mode"), "fa": ("حالت آفلاین", "حالت آفلاین"),
                     "ar": ("الوضع دون اتصال", "الوضع دون اتصال")}),
    ],
    [
        ("modem", {"en": ("Modems and routers", "router"), "fa": ("مودم", "مودم"),
                   "ar": ("الراوتر", "الراوتر")}),
        ("wifi", {"en": ("Wi-Fi", "Wi-Fi network"), "fa": ("وای‌فای", "شبکه Wi-Fi"),
                  "ar": ("الواي فاي", "شبكة الواي فاي")}),
        ("vpn", {"en": ("VPN", "VPN connection"), "fa": ("وی‌پی‌ان", "اتصال VPN"),
                 "ar": ("الشبكة الخاصة", "اتصال VPN")}),
        ("speed", {"en": ("Speed", "data plan"), "fa": ("سرعت اینترنت", "بسته اینترنت"),
                   "ar": ("السرعة", "باقة الإنترنت")}),
    ],
    [
        ("api-keys", {"en": ("API keys", "API key"), "fa": ("کلید API", "کلید API"),
                      "ar": ("مفاتيح API", "مفتاح API")}),
        ("webhooks", {"en": ("Webhooks", "webhook"), "fa": ("وب‌هوک", "وب‌هوک"),
                      "ar": ("الويب هوك", "الويب هوك")}),
        ("import", {"en": ("Import and export", "CSV import"),
                    "fa": ("ورود و خروج داده", "فایل CSV"),
                    "ar": ("الاستيراد والتصدير", "ملف CSV")}),
        ("sso", {"en": ("Single sign-on", "SSO"), "fa": ("ورود یکپارچه", "ورود یکپارچه"),
                 "ar": ("الدخول الموحد", "الدخول الموحد")}),
    ],
    [
        ("phishing", {"en": ("Phishing", "suspicious email"), "fa": ("فیشینگ", "ایمیل مشکوک"),
                      "ar": ("التصيد الاحتيالي", "البريد المشبوه")}),
        ("data", {"en": ("Your data", "data export"), "fa": ("داده‌های شما", "خروجی اطلاعات"),
                  "ar": ("بياناتك", "تصدير البيانات")}),
        ("permissions", {"en": ("Permissions", "team permission"), "fa": ("دسترسی‌ها", "سطح دسترسی"),
                         "ar": ("الصلاحيات", "صلاحيات الفريق")}),
        ("alerts", {"en": ("Security alerts", "security alert"),
                    "fa": ("هشدار امنیتی", "هشدار امنیتی"),
                    "ar": ("تنبيهات الأمان", "تنبيه الأمان")}),
    ],
    [
        ("setup", {"en": ("First steps", "dashboard"), "fa": ("قدم‌های اول", "پنل کاربری"),
                   "ar": ("الخطوات الأولى", "لوحة التحكم")}),
        ("teams", {"en": ("Teams", "team"), "fa": ("تیم‌ها", "تیم"), "ar": ("الفرق", "الفريق")}),
        ("reports", {"en": ("Reports", "report"), "fa": ("گزارش‌ها", "گزارش"),
                     "ar": ("التقارير", "التقرير")}),
        ("preferences", {"en": ("Preferences", "language preference"),
                         "fa": ("ترجیحات", "زبان پنل"), "ar": ("التفضيلات", "لغة اللوحة")}),
    ],
]  # fmt: skip
CATEGORY_INTROS = {
    "en": "Answers about {t}: how it works, what to do when it does not.",
    "fa": "پاسخ پرسش‌های رایج درباره {t}: روش کار و راه‌حل مشکلات.",
    "ar": "إجابات حول {t}: كيف يعمل وماذا تفعل عندما لا يعمل.",
}

TITLES = {
    "en": ["How to change your {n}", "Why my {n} {v}", "Setting up your {n}",
           "What to do when the {n} {v}", "{n}: frequently asked questions",
           "Getting started with the {n}", "Fixing a {n} that {v}", "Managing your {n} {q}",
           "Can I use the {n} {q}?", "Everything about the {n} {q}"],
    "fa": ["چگونه {n} را تغییر دهم", "چرا {n} {v}", "راه‌اندازی {n}",
           "وقتی {n} {v} چه کنم", "پرسش‌های متداول درباره {n}", "آشنایی با {n}",
           "رفع خطای {n}", "مدیریت {n} {q}", "آیا می‌توانم {n} را {q} استفاده کنم؟",
           "همه چیز درباره {n} {q}"],
    "ar": ["كيف تغير {n}", "لماذا {n} {v}", "إعداد {n}", "ماذا أفعل إذا كان {n} {v}",
           "الأسئلة الشائعة حول {n}", "البدء مع {n}", "إصلاح مشكلة {n}", "إدارة {n} {q}",
           "هل يمكنني استخدام {n} {q}؟", "كل شيء عن {n} {q}"],
}  # fmt: skip
QUALIFIERS = {
    "en": ["on Android", "on iPhone", "for business accounts", "abroad", "from the web",
           "for a team", "after an update", "on a new phone", "with a VPN", "in the dashboard"],
    "fa": ["در اندروید", "در آیفون", "برای حساب سازمانی", "در خارج از کشور", "از طریق سایت",
           "برای تیم", "پس از به‌روزرسانی", "در گوشی جدید", "با VPN", "در پنل کاربری"],
    "ar": ["على أندرويد", "على آيفون", "لحسابات الشركات", "خارج البلاد", "من الموقع",
           "للفريق", "بعد التحديث", "على هاتف جديد", "مع VPN", "في لوحة التحكم"],
}  # fmt: skip
SENTENCES = {
    "en": [
        "This article explains how the {n} works and what you can do when it {v}.",
        "Most problems with the {n} are solved in a few minutes without contacting support.",
        "Before you start, make sure you are signed in with the account that owns the {n}.",
        "If the {n2} {v} as well, fix that first: the {n} depends on it.",
        "Changes to the {n} take effect immediately, but it can take up to {num} seconds "
        "for every device to see them.",
        "You can do this from the website or from the mobile app; the steps are the same.",
        "Business accounts have an extra option for the {n} in the admin area.",
        "We keep a history of every change to your {n}, so you can always go back.",
        "When the {n} {v}, the most common cause is an outdated app version.",
        "Keep your {n2} up to date to avoid most of these issues.",
        "The {n} is included in every plan at no extra cost.",
        "If you share the {n} with your team, each member sees the same settings.",
        "For security reasons we never ask for your password by email or phone.",
        "Reference number {num} appears on the confirmation screen; keep it for later.",
    ],
    "fa": [
        "در این مقاله توضیح می‌دهیم {n} چگونه کار می‌کند و وقتی {v} چه باید کرد.",
        "بیشتر مشکلات {n} در چند دقیقه و بدون تماس با پشتیبانی حل می‌شود.",
        "پیش از شروع مطمئن شوید با حسابی وارد شده‌اید که {n} متعلق به آن است.",
        "اگر {n2} هم {v}، اول آن را درست کنید؛ {n} به آن وابسته است.",
        "تغییرات {n} بلافاصله اعمال می‌شود، اما ممکن است تا {num} ثانیه طول بکشد "
        "تا همه دستگاه‌ها آن را ببینند.",
        "این کار را هم از سایت و هم از اپلیکیشن موبایل می‌توانید انجام دهید؛ مراحل یکی است.",
        "حساب‌های سازمانی در بخش مدیریت یک گزینه اضافه برای {n} دارند.",
        "ما تاریخچه همه تغییرات {n} را نگه می‌داریم تا همیشه بتوانید برگردید.",
        "وقتی {n} {v}، رایج‌ترین علت قدیمی بودن نسخه اپلیکیشن است.",
        "{n2} خود را به‌روز نگه دارید تا بیشتر این مشکلات پیش نیاید.",
        "{n} در همه طرح‌ها بدون هزینه اضافه در دسترس است.",
        "اگر {n} را با تیم خود به اشتراک بگذارید، همه اعضا همان تنظیم را می‌بینند.",
        "به دلایل امنیتی هرگز رمز عبور شما را از طریق ایمیل یا تلفن نمی‌خواهیم.",
        "شماره پیگیری {num} در صفحه تأیید نمایش داده می‌شود؛ آن را نگه دارید.",
    ],
    "ar": [
        "يشرح هذا المقال كيف يعمل {n} وماذا تفعل عندما يكون {v}.",
        "تحل معظم مشكلات {n} في دقائق دون التواصل مع الدعم.",
        "قبل أن تبدأ تأكد من تسجيل الدخول بالحساب الذي يملك {n}.",
        "إذا كان {n2} أيضا {v}، أصلحه أولا لأن {n} يعتمد عليه.",
        "تطبق التغييرات على {n} فورا، لكن قد يستغرق ظهورها على كل الأجهزة {num} ثانية.",
        "يمكنك القيام بذلك من الموقع أو من تطبيق الجوال؛ الخطوات نفسها.",
        "لحسابات الشركات خيار إضافي لـ{n} في منطقة الإدارة.",
        "نحتفظ بسجل لكل تغيير على {n} حتى تتمكن دائما من التراجع.",
        "عندما يكون {n} {v}، يكون السبب الأكثر شيوعا إصدارا قديما من التطبيق.",
        "حافظ على تحديث {n2} لتجنب معظم هذه المشكلات.",
        "يتوفر {n} في جميع الباقات دون تكلفة إضافية.",
        "إذا شاركت {n} مع فريقك، يرى كل عضو الإعدادات نفسها.",
        "لأسباب أمنية لا نطلب كلمة المرور أبدا عبر البريد أو الهاتف.",
        "يظهر الرقم المرجعي {num} في صفحة التأكيد؛ احتفظ به.",
    ],
}
STEPS = {
    "en": ["Open the {n} page", "Sign in to your account", "Choose Edit next to the {n}",
           "Enter the new details and save", "Check the confirmation email",
           "Restart the app", "Wait a minute and try again", "Contact support with code {num}"],
    "fa": ["صفحه {n} را باز کنید", "وارد حساب کاربری خود شوید", "کنار {n} روی ویرایش بزنید",
           "اطلاعات جدید را وارد و ذخیره کنید", "ایمیل تأیید را بررسی کنید",
           "اپلیکیشن را دوباره باز کنید", "یک دقیقه صبر کنید و دوباره امتحان کنید",
           "با کد {num} با پشتیبانی تماس بگیرید"],
    "ar": ["افتح صفحة {n}", "سجل الدخول إلى حسابك", "اختر تعديل بجانب {n}",
           "أدخل البيانات الجديدة واحفظ", "تحقق من رسالة التأكيد",
           "أعد تشغيل التطبيق", "انتظر دقيقة وحاول مرة أخرى", "تواصل مع الدعم برمز {num}"],
}  # fmt: skip
HEADINGS = {
    "en": ["Before you begin", "Step by step", "If it still {v}", "Good to know", "Limits"],
    "fa": ["پیش از شروع", "گام به گام", "اگر هنوز {v}", "خوب است بدانید", "محدودیت‌ها"],
    "ar": ["قبل أن تبدأ", "خطوة بخطوة", "إذا كان لا يزال {v}", "من المفيد معرفته", "الحدود"],
}  # fmt: skip
CLOSING = {
    "en": "Still need help? Open a request and mention the {n}: we answer within a day.",
    "fa": "هنوز به کمک نیاز دارید؟ یک درخواست ثبت کنید و {n} را ذکر کنید؛ ظرف یک روز پاسخ می‌دهیم.",
    "ar": "هل ما زلت بحاجة إلى مساعدة؟ افتح طلبا واذكر {n}؛ نرد خلال يوم.",
}
CALLOUTS = {
    "en": [("tip", "Tip", "You can undo this within {num} minutes."),
           ("warning", "Careful", "Changing the {n} signs you out on every device."),
           ("info", "Note", "Business accounts may need an administrator's approval.")],
    "fa": [("tip", "نکته", "تا {num} دقیقه می‌توانید این کار را لغو کنید."),
           ("warning", "مراقب باشید", "تغییر {n} شما را از همه دستگاه‌ها خارج می‌کند."),
           ("info", "توجه", "حساب‌های سازمانی ممکن است به تأیید مدیر نیاز داشته باشند.")],
    "ar": [("tip", "نصيحة", "يمكنك التراجع خلال {num} دقيقة."),
           ("warning", "انتبه", "تغيير {n} يسجل خروجك من كل الأجهزة."),
           ("info", "ملاحظة", "قد تحتاج حسابات الشركات إلى موافقة المسؤول.")],
}  # fmt: skip
CODE_SNIPPETS = [
    ("bash", "curl -H 'Authorization: Bearer $TOKEN' https://api.example.com/v1/status"),
    ("json", '{\n  "event": "ticket.created",\n  "retry": 3,\n  "timeout_seconds": 10\n}'),
    ("powershell", "Get-NetAdapter | Restart-NetAdapter -Confirm:$false"),
    ("text", "Error {num}: connection reset by peer"),
]
SUMMARIES = {
    "en": "What to do about the {n} {q}, step by step.",
    "fa": "راهنمای گام به گام {n} {q}.",
    "ar": "دليل خطوة بخطوة حول {n} {q}.",
}
TAGS = {
    "en": ["how-to", "faq", "beginner", "advanced", "mobile", "web", "business", "billing"],
    "fa": ["راهنما", "سوالات متداول", "مبتدی", "پیشرفته", "موبایل", "وب", "سازمانی", "مالی"],
    "ar": ["دليل", "أسئلة شائعة", "مبتدئ", "متقدم", "الجوال", "الويب", "الشركات", "الفواتير"],
}
NOUNS = {"en": EN_NOUNS, "fa": FA_NOUNS, "ar": AR_NOUNS}
VERBS = {"en": EN_VERBS, "fa": FA_VERBS, "ar": AR_VERBS}
IMAGE_CAPTIONS = {"en": "Where to find it", "fa": "محل این گزینه", "ar": "مكان هذا الخيار"}


# --- article plans: everything about article i, from i alone ---------------------------


@dataclass
class ArticlePlan:
    index: int
    lang: str
    group: str  # translation group: articles of one group share a translation key
    area: int
    topic: int
    title: str
    slug: str
    summary: str
    body: list[dict]
    tags: list[str]
    internal_only: bool
    published_at: datetime
    updated_at: datetime
    views: int
    related_count: int
    page_link: bool  # links to another article in its text (resolved at insert time)


def language_of(index: int) -> tuple[str, int]:
    """Article ``index``'s language and its ordinal among that language's articles."""
    lang = LANGUAGE_BY_REMAINDER[index % 10]
    before = LANGUAGE_BY_REMAINDER[: index % 10].count(lang)
    return lang, (index // 10) * PER_TEN[lang] + before


def _number(rng: random.Random, lang: str) -> str:
    digits = str(rng.randint(100, 99_999))
    if lang == "en" or rng.random() < 0.25:
        return digits
    return digits.translate(FA_DIGITS if lang == "fa" else AR_DIGITS)


def _fill(rng: random.Random, lang: str, template: str, noun: str) -> str:
    return template.format(
        n=noun,
        n2=rng.choice(NOUNS[lang]),
        v=rng.choice(VERBS[lang]),
        q=rng.choice(QUALIFIERS[lang]),
        num=_number(rng, lang),
    )


def _rich(text: str) -> str:
    return html.escape(text, quote=False)


def _block(rng: random.Random, kind: str, value) -> dict:
    return {"type": kind, "value": value, "id": str(uuid.UUID(int=rng.getrandbits(128)))}


def _slug(title: str, index: int) -> str:
    from django.utils.text import slugify

    return f"{slugify(title, allow_unicode=True)[:60].strip('-')}-{index}"


def _rare_assignments() -> dict[int, str]:
    """Article index -> rare word: each word in RARE_PER_WORD articles of its language."""
    rng = random.Random(SEED + 1)
    by_lang = {lang: [] for lang in LANGUAGES}
    for index in range(ARTICLES):
        by_lang[language_of(index)[0]].append(index)
    chosen: dict[int, str] = {}
    for lang, words in RARE_WORDS.items():
        picks = rng.sample(by_lang[lang], len(words) * RARE_PER_WORD)
        for n, index in enumerate(picks):
            chosen[index] = words[n // RARE_PER_WORD]
    return chosen


RARE_BY_ARTICLE: dict[int, str] = {}


def article_plan(index: int, *, image_ids: list[int]) -> ArticlePlan:
    lang, ordinal = language_of(index)
    group = f"{lang}-{ordinal}"
    if lang != "en" and ordinal < TRANSLATED[lang]:
        group = f"en-{ordinal}"  # a translation of the English article of that ordinal
    # Category and topic follow the translation group, so translations sit side by side.
    group_rng = random.Random(f"{SEED}:{group}")
    area = group_rng.randrange(len(AREAS))
    topic = group_rng.randrange(len(TOPICS[area])) if group_rng.random() < 0.9 else -1
    title_template = group_rng.randrange(len(TITLES["en"]))
    rng = random.Random(SEED * 1_000_003 + index)
    topic_names = TOPICS[area][topic if topic >= 0 else 0][1][lang]
    noun = topic_names[1]
    title = _fill(rng, lang, TITLES[lang][title_template], noun)
    title = title[:1].upper() + title[1:]
    sentences = SENTENCES[lang]

    def para(count: int) -> str:
        return " ".join(_fill(rng, lang, rng.choice(sentences), noun) for _ in range(count))

    extra = []  # the controlled words, each in its own sentence
    if rng.random() < COMMON_SHARE:
        extra.append(_fill(rng, lang, rng.choice(COMMON_SENTENCES[lang]), noun))
    if lang == "fa" and rng.random() < FA_SMS_SHARE:
        extra.append(rng.choice(FA_SMS_SENTENCES))
    rare = RARE_BY_ARTICLE.get(index)
    if rare:
        extra.append(RARE_SENTENCES[lang].format(rare=rare))

    body = [_block(rng, "text", f"<p>{_rich(para(rng.randint(2, 4)))}</p>")]
    steps = [
        {
            "title": _fill(rng, lang, step, noun),
            "text": f"<p>{_rich(_fill(rng, lang, rng.choice(sentences), noun))}</p>"
            if rng.random() < 0.6
            else "",
        }
        for step in rng.sample(STEPS[lang], rng.randint(3, 7))
    ]
    body.append(_block(rng, "steps", {"title": HEADINGS[lang][1], "steps": steps}))
    if rng.random() < CODE_SHARE:
        language, code = rng.choice(CODE_SNIPPETS)
        body.append(
            _block(
                rng,
                "code",
                {"language": language, "code": code.replace("{num}", _number(rng, "en"))},
            )
        )
    if image_ids and rng.random() < IMAGE_SHARE:
        image = {"image": rng.choice(image_ids), "decorative": False, "alt_text": title}
        body.append(_block(rng, "image", {"image": image, "caption": IMAGE_CAPTIONS[lang]}))
    items = "".join(
        f"<li>{_rich(_fill(rng, lang, rng.choice(sentences), noun))}</li>" for _ in range(3)
    )
    heading = _fill(rng, lang, rng.choice(HEADINGS[lang]), noun)
    middle = f"<h2>{_rich(heading)}</h2><p>{_rich(para(rng.randint(2, 4)))}</p><ul>{items}</ul>"
    if extra:
        middle += f"<p>{_rich(' '.join(extra))}</p>"
    body.append(_block(rng, "text", middle))
    if rng.random() < CALLOUT_SHARE:
        tone, callout_title, text = rng.choice(CALLOUTS[lang])
        body.append(
            _block(
                rng,
                "callout",
                {
                    "tone": tone,
                    "title": callout_title,
                    "text": f"<p>{_rich(_fill(rng, lang, text, noun))}</p>",
                },
            )
        )
    closing = f"<p>{_rich(CLOSING[lang].format(n=noun))}</p>"
    if rng.random() < 0.5:
        closing += '<p><a href="https://status.example.com">status.example.com</a></p>'
    body.append(_block(rng, "text", closing))
    summary = _fill(rng, lang, SUMMARIES[lang], noun)[:300]

    if lang == "fa" and rng.random() < ARABIC_KEYBOARD_SHARE:
        title, summary = title.translate(ARABIC_KEYBOARD), summary.translate(ARABIC_KEYBOARD)
        for block in body:
            _translate_block(block, ARABIC_KEYBOARD)
    if lang == "fa":
        title, summary = _keyboard_variant(rng, title), _keyboard_variant(rng, summary)

    tags = rng.sample(TAGS[lang], rng.randint(1, 3)) + [topic_names[0]]
    published = END - timedelta(days=YEARS * 365 * (1 - index / ARTICLES) + rng.random())
    updated = min(END, published + timedelta(days=rng.expovariate(1 / 90)))
    return ArticlePlan(
        index=index,
        lang=lang,
        group=group,
        area=area,
        topic=topic,
        title=title[:255],
        slug=_slug(title, index),
        summary=summary,
        body=body,
        tags=list(dict.fromkeys(tags)),
        internal_only=rng.random() < INTERNAL_SHARE,
        published_at=published,
        updated_at=updated,
        views=int(rng.paretovariate(1.2) * 20),
        related_count=rng.randint(1, 3) if rng.random() < RELATED_SHARE else 0,
        page_link=rng.random() < PAGE_LINK_SHARE,
    )


def _translate_block(block: dict, table: dict) -> None:
    """Apply ``str.translate(table)`` to every string inside a block's value (not ids)."""

    def walk(value):
        if isinstance(value, str):
            return value.translate(table)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {
                k: (v if k in ("image", "language", "tone") else walk(v)) for k, v in value.items()
            }
        return value

    block["value"] = walk(block["value"])


# --- the tenant, its trees and images -------------------------------------------------


def tenant_ensure(*, reset: bool):
    """The bench tenant: reused, or (first run, --reset) provisioned like a signup."""
    from tenants.context import public_schema
    from tenants.models import Tenant
    from tenants.provisioning import OwnerDetails, tenant_delete, tenant_provision

    with public_schema():
        tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is not None and reset:
        progress(f"--reset: deleting tenant {SLUG} ({tenant.schema_name})...")
        tenant_delete(tenant=tenant)
        tenant = None
    if tenant is not None:
        return tenant, False
    owner = OwnerDetails(name="Bench Owner", email=OWNER_EMAIL, password=BENCH_PASSWORD)
    return tenant_provision(name=TENANT_NAME, slug=SLUG, owner=owner), True


@dataclass
class Trees:
    """Per language: its KB index and the category page of each (area, topic); topic -1 is
    the area's own page."""

    locales: dict[str, int]  # language code -> Locale id
    homes: dict[str, object]
    categories: dict[tuple[str, int, int], object] = field(default_factory=dict)


def trees_ensure() -> Trees:
    """40 categories under each language's KB index, translations of each other. Made with
    ``add_child`` (a few dozen pages; what an editor's publish does, without revisions)."""
    from django.db import transaction
    from django.utils import timezone
    from wagtail.models import Locale

    from kb_pages.models import KBCategoryPage, KBIndexPage, PortalHomePage

    locales = {loc.language_code: loc.pk for loc in Locale.objects.all()}
    homes = {
        lang: PortalHomePage.objects.get(depth=2, locale_id=locales[lang]) for lang in LANGUAGES
    }
    trees = Trees(locales=locales, homes=homes)
    now = timezone.now()
    with transaction.atomic():
        for lang in LANGUAGES:
            index = KBIndexPage.objects.child_of(homes[lang]).get()
            for a, (area_slug, *names, icon) in enumerate(AREAS):
                area_name = names[LANGUAGES.index(lang)]
                area_page = _category_ensure(
                    index, lang, locales, key=f"area-{a}", slug=area_slug, title=area_name,
                    icon=icon, now=now, model=KBCategoryPage,
                )  # fmt: skip
                trees.categories[(lang, a, -1)] = area_page
                for t, (topic_slug, names_by_lang) in enumerate(TOPICS[a]):
                    topic_title = names_by_lang[lang][0]
                    trees.categories[(lang, a, t)] = _category_ensure(
                        area_page, lang, locales, key=f"topic-{a}-{t}", slug=topic_slug,
                        title=topic_title, icon="", now=now, model=KBCategoryPage,
                    )  # fmt: skip
    return trees


def _category_ensure(parent, lang, locales, *, key, slug, title, icon, now, model):
    translation_key = uuid.uuid5(NAMESPACE, f"category:{key}")
    existing = model.objects.filter(
        translation_key=translation_key, locale_id=locales[lang]
    ).first()
    if existing is not None:
        return existing
    page = model(
        title=title,
        slug=slug,
        intro=CATEGORY_INTROS[lang].format(t=title),
        icon=icon,
        locale_id=locales[lang],
        translation_key=translation_key,
        live=True,
        first_published_at=now,
        last_published_at=now,
    )
    parent.add_child(instance=page)
    parent.refresh_from_db()  # numchild grew
    return page


def images_ensure() -> list[int]:
    """A few screenshots (generated PNGs) the articles' image blocks show."""
    from django.core.files.images import ImageFile
    from PIL import Image as PillowImage
    from PIL import ImageDraw
    from wagtail.images import get_image_model

    image_model = get_image_model()
    ids = list(
        image_model.objects.filter(title__startswith="KB screenshot ")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for n in range(len(ids), IMAGES):
        picture = PillowImage.new("RGB", (1280, 800), (230 - 10 * n, 240, 250))
        draw = ImageDraw.Draw(picture)
        draw.rectangle((40, 40, 1240, 120), fill=(40, 90, 160))
        draw.rectangle((80, 200, 700 + 30 * n, 260), fill=(200, 200, 210))
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        image = image_model(
            title=f"KB screenshot {n + 1:02}",
            file=ImageFile(io.BytesIO(buffer.getvalue()), name=f"kb-screenshot-{n + 1:02}.png"),
        )
        image.save()
        ids.append(image.pk)
    return ids


# --- loading articles -----------------------------------------------------------------


@dataclass
class Known:
    """Articles already in the tree: index -> (pk, lang, category key, title)."""

    articles: dict[int, tuple[int, str, tuple[str, int, int], str]] = field(default_factory=dict)

    def earlier_in(self, rng: random.Random, lang: str, category, count: int) -> list[int]:
        """Up to ``count`` article pks of ``lang`` (from ``category`` when it has some)."""
        same = [v[0] for v in self.recent.get((lang, category), [])]
        pool = same if len(same) >= count else [v[0] for v in self.recent_lang.get(lang, [])]
        return rng.sample(pool, min(count, len(pool))) if pool else []

    def remember(self, index, pk, lang, category, title) -> None:
        self.articles[index] = (pk, lang, category, title)
        self.recent.setdefault((lang, category), []).append((pk, title))
        self.recent_lang.setdefault(lang, []).append((pk, title))
        for key in ((lang, category),):
            if len(self.recent[key]) > 400:
                del self.recent[key][:200]
        if len(self.recent_lang[lang]) > 2000:
            del self.recent_lang[lang][:1000]

    recent: dict = field(default_factory=dict)
    recent_lang: dict = field(default_factory=dict)


SLUG_INDEX = re.compile(r"-(\d+)$")


def known_load(trees: Trees) -> Known:
    from kb_pages.models import ArticlePage

    category_by_path = {page.path: key for key, page in trees.categories.items()}
    known = Known()
    rows = ArticlePage.objects.order_by("pk").values_list(
        "pk", "slug", "path", "title", "locale_id"
    )
    lang_by_locale = {v: k for k, v in trees.locales.items()}
    for pk, slug, path, title, locale_id in rows:
        match = SLUG_INDEX.search(slug)
        category = category_by_path.get(path[:-4])
        if match and category:
            known.remember(int(match.group(1)), pk, lang_by_locale[locale_id], category, title)
    return known


@dataclass
class LoadStats:
    articles: int = 0
    tags: int = 0
    related: int = 0
    plan_s: float = 0.0
    insert_s: float = 0.0
    index_s: float = 0.0
    references_s: float = 0.0


def batch_insert(
    *, plans: list[ArticlePlan], trees: Trees, known: Known, owner_id, stats: LoadStats
) -> None:
    """One transaction: page and article rows with treebeard paths, tags, related links,
    counters, parents' numchild, then the search index and the reference index."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from django.db.models import F
    from taggit.models import Tag
    from wagtail.models import Page, ReferenceIndex
    from wagtail.search.backends import get_search_backend

    from kb_pages.models import ArticlePage, ArticlePageTag, ArticleRelatedLink, ArticleStats

    t0 = time.perf_counter()
    article_type = ContentType.objects.get_for_model(ArticlePage)
    with transaction.atomic():
        # Treebeard's path maths: the next free step under each parent, read once.
        parents = {}
        for plan in plans:
            key = (plan.lang, plan.area, plan.topic)
            parents.setdefault(key, trees.categories[key])
        next_step = {}
        for key, parent in parents.items():
            last = (
                Page.objects.filter(path__startswith=parent.path, depth=parent.depth + 1)
                .order_by("-path")
                .values_list("path", flat=True)
                .first()
            )
            next_step[key] = (Page._str2int(last[-Page.steplen :]) + 1) if last else 1
        tag_names = {name for plan in plans for name in plan.tags}
        Tag.objects.bulk_create(
            [Tag(name=name, slug=_tag_slug(name)) for name in tag_names], ignore_conflicts=True
        )
        tags = {tag.name: tag for tag in Tag.objects.filter(name__in=tag_names)}

        articles, added = [], {}
        for plan in plans:
            key = (plan.lang, plan.area, plan.topic)
            parent = parents[key]
            step = next_step[key]
            next_step[key] += 1
            added[key] = added.get(key, 0) + 1
            body = plan.body
            if plan.page_link:
                target = known.earlier_in(random.Random(plan.index), plan.lang, key, 1)
                if target:
                    body = _with_page_link(body, target[0], plan.lang)
            article = ArticlePage(
                title=plan.title,
                draft_title=plan.title,
                slug=plan.slug,
                path=Page._get_path(parent.path, parent.depth + 1, step),
                depth=parent.depth + 1,
                numchild=0,
                url_path=f"{parent.url_path}{plan.slug}/",
                content_type=article_type,
                locale_id=trees.locales[plan.lang],
                translation_key=uuid.uuid5(NAMESPACE, f"article:{plan.group}"),
                owner_id=owner_id,
                live=True,
                has_unpublished_changes=False,
                first_published_at=plan.published_at,
                last_published_at=plan.updated_at,
                summary=plan.summary,
                body=body,
                internal_only=plan.internal_only,
            )
            # Children in memory (modelcluster), as an editor's form would leave them: the
            # search text (tags) and the reference index (related links) read them there.
            article.tagged_items = [ArticlePageTag(tag=tags[name]) for name in plan.tags]
            related = known.earlier_in(
                random.Random(-plan.index), plan.lang, key, plan.related_count
            )
            article.related_links = [
                ArticleRelatedLink(related_id=pk, sort_order=n) for n, pk in enumerate(related)
            ]
            articles.append(article)
        stats.plan_s += time.perf_counter() - t0

        t1 = time.perf_counter()
        # Django cannot bulk_create a multi-table child: the Page rows first (ids back),
        # then the article rows with the article's own columns, as Model.save() does.
        page_fields = [f for f in Page._meta.concrete_fields if not f.primary_key]
        bases = Page.objects.bulk_create(
            [Page(**{f.attname: getattr(a, f.attname) for f in page_fields}) for a in articles]
        )
        for article, base in zip(articles, bases, strict=True):
            article.pk = article.id = article.page_ptr_id = base.pk
            article._state.adding = False
        ArticlePage._base_manager._insert(
            articles,
            fields=ArticlePage._meta.local_concrete_fields,
            using=connection.alias,
            raw=True,
        )
        tagged, links = [], []
        for article in articles:
            for item in article.tagged_items.all():
                item.content_object_id = article.pk
                tagged.append(item)
            for link in article.related_links.all():
                link.article_id = article.pk
                links.append(link)
        ArticlePageTag.objects.bulk_create(tagged)
        ArticleRelatedLink.objects.bulk_create(links)
        ArticleStats.objects.bulk_create(
            [
                ArticleStats(
                    article_id=a.pk,
                    views=p.views,
                    last_viewed_at=p.updated_at,
                    live=a.live,
                    locale_id=a.locale_id,
                    internal_only=a.internal_only,
                )
                for a, p in zip(articles, plans, strict=True)
            ]
        )
        for key, count in added.items():
            Page.objects.filter(pk=parents[key].pk).update(numchild=F("numchild") + count)
        stats.insert_s += time.perf_counter() - t1

        t2 = time.perf_counter()
        with search_text_once():
            get_search_backend().add_bulk(ArticlePage, articles)
        stats.index_s += time.perf_counter() - t2
        t3 = time.perf_counter()
        for article in articles:
            ReferenceIndex.create_or_update_for_object(article)
        stats.references_s += time.perf_counter() - t3

    for article, plan in zip(articles, plans, strict=True):
        known.remember(
            plan.index, article.pk, plan.lang, (plan.lang, plan.area, plan.topic), plan.title
        )
    stats.articles += len(articles)
    stats.tags += len(tagged)
    stats.related += len(links)


@contextlib.contextmanager
def search_text_once():
    """Compute ``ArticlePage.search_text`` once per article while indexing.

    modelsearch's ObjectIndexer reads every search field once per vector it builds
    (title, body, autocomplete and the two plain texts): five times the body's searchable
    content, tokenised, per article, about three quarters of the indexing time. For this
    load only; ``index_matches_signal_path()`` checks the rows equal what a page save
    writes without it.
    """
    from kb_pages.models import ArticlePage

    original = ArticlePage.__dict__["search_text"]

    def once(self):
        if "_bench_search_text" not in self.__dict__:
            self.__dict__["_bench_search_text"] = original.fget(self)
        return self.__dict__["_bench_search_text"]

    ArticlePage.search_text = property(once)
    try:
        yield
    finally:
        ArticlePage.search_text = original


def _tag_slug(name: str) -> str:
    from django.utils.text import slugify

    return slugify(name, allow_unicode=True)


LINK_TEXT = {
    "en": "See also this article.",
    "fa": "این مقاله را هم ببینید.",
    "ar": "راجع أيضا هذا المقال.",
}


def _with_page_link(body: list[dict], page_id: int, lang: str) -> list[dict]:
    """The body with a link to another article (Wagtail's stored form) in its first text."""
    body = [dict(block) for block in body]
    link = f'<p><a linktype="page" id="{page_id}">{LINK_TEXT[lang]}</a></p>'
    body[0]["value"] = body[0]["value"] + link
    return body


def featured_set(trees: Trees) -> None:
    """Each home features its first areas and its most viewed public articles."""
    from kb_pages.models import ArticlePage, PortalHomePage

    categories_through = PortalHomePage.featured_categories.through
    articles_through = PortalHomePage.featured_articles.through
    for lang, home in trees.homes.items():
        categories = [trees.categories[(lang, a, -1)].pk for a in range(FEATURED_CATEGORIES)]
        articles = list(
            ArticlePage.objects.filter(locale_id=trees.locales[lang], internal_only=False)
            .order_by("-stats__views", "pk")
            .values_list("pk", flat=True)[:FEATURED_ARTICLES]
        )
        categories_through.objects.filter(portalhomepage_id=home.pk).delete()
        articles_through.objects.filter(portalhomepage_id=home.pk).delete()
        categories_through.objects.bulk_create(
            [
                categories_through(portalhomepage_id=home.pk, kbcategorypage_id=pk)
                for pk in categories
            ]
        )
        articles_through.objects.bulk_create(
            [articles_through(portalhomepage_id=home.pk, articlepage_id=pk) for pk in articles]
        )


# --- the Wagtail editor's way, for comparison -----------------------------------------


def compare_editor_way(*, count: int, trees: Trees, image_ids: list[int]) -> dict[str, float]:
    """ms per article the one-by-one ways: ``add_child`` alone (signals index it), and
    ``add_child`` + ``save_revision().publish()`` as an editor publishes. Rolled back."""
    from django.db import transaction
    from taggit.models import Tag

    from kb_pages.models import ArticlePage

    results = {}
    for label, publish in (("add_child", False), ("add_child + revision + publish", True)):

        class Rollback(Exception):
            pass

        try:
            with transaction.atomic():
                started = time.perf_counter()
                for n in range(count):
                    plan = article_plan(ARTICLES + n, image_ids=image_ids)
                    parent = trees.categories[(plan.lang, plan.area, plan.topic)]
                    parent.refresh_from_db()
                    article = ArticlePage(
                        title=plan.title,
                        slug=plan.slug,
                        locale_id=trees.locales[plan.lang],
                        summary=plan.summary,
                        body=plan.body,
                        internal_only=plan.internal_only,
                        live=not publish,
                    )
                    article.tags.add(*[Tag.objects.get_or_create(name=t)[0] for t in plan.tags])
                    parent.add_child(instance=article)
                    if publish:
                        article.save_revision().publish()
                results[label] = (time.perf_counter() - started) * 1000 / count
                raise Rollback
        except Rollback:
            pass
    return results


# --- checks ---------------------------------------------------------------------------


def tree_check() -> tuple[list, float]:
    """``Page.find_problems()``: five lists of page ids (bad characters, step length,
    orphans, depth, numchild), all empty for a valid tree."""
    from wagtail.models import Page

    started = time.perf_counter()
    problems = Page.find_problems()
    return list(problems), time.perf_counter() - started


def url_paths_check() -> int:
    """Pages whose url_path is not their parent's plus their slug (0 expected)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM wagtailcore_page c JOIN wagtailcore_page p "
            "ON p.path = substr(c.path, 1, length(c.path) - 4) "
            "WHERE c.url_path <> p.url_path || c.slug || '/'"
        )
        return cursor.fetchone()[0]


def index_check() -> dict[str, int]:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from kb_pages.models import ArticlePage

    article_type = ContentType.objects.get_for_model(ArticlePage).pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM kb_pages_articlepage a WHERE NOT EXISTS (SELECT 1 FROM "
            "wagtailsearch_indexentry e WHERE e.content_type_id = %s "
            "AND e.object_id = a.page_ptr_id::text)",
            [article_type],
        )
        missing = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM wagtailsearch_indexentry WHERE content_type_id = %s",
            [article_type],
        )
        entries = cursor.fetchone()[0]
    return {"index entries for articles": entries, "articles missing from the index": missing}


def index_matches_signal_path(sample: int = 20) -> tuple[int, int]:
    """Re-index a sample the way a page save does (``insert_or_update_object``) in a
    rolled-back transaction and compare the stored vectors: equal means the bulk path
    wrote what the app would."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from wagtail.search.index import insert_or_update_object

    from kb_pages.models import ArticlePage

    article_type = ContentType.objects.get_for_model(ArticlePage).pk
    ids = list(ArticlePage.objects.order_by("?").values_list("pk", flat=True)[:sample])
    sql = (
        "SELECT object_id, title::text, body::text, autocomplete::text "
        "FROM wagtailsearch_indexentry "
        "WHERE content_type_id = %s AND object_id = ANY(%s) ORDER BY object_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [article_type, [str(pk) for pk in ids]])
        before = cursor.fetchall()
    equal = 0

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            for article in ArticlePage.objects.filter(pk__in=ids):
                insert_or_update_object(article)
            with connection.cursor() as cursor:
                cursor.execute(sql, [article_type, [str(pk) for pk in ids]])
                after = cursor.fetchall()
            equal = sum(a == b for a, b in zip(before, after, strict=True))
            raise Rollback
    except Rollback:
        pass
    return equal, len(ids)


def counts() -> dict[str, int]:
    from django.db.models import Count

    from kb_pages.models import ArticlePage, ArticleRelatedLink, KBCategoryPage

    by_lang = dict(
        ArticlePage.objects.values_list("locale__language_code").annotate(n=Count("pk")).order_by()
    )
    return {
        "articles": sum(by_lang.values()),
        **{f"  {lang}": by_lang.get(lang, 0) for lang in LANGUAGES},
        "internal-only": ArticlePage.objects.filter(internal_only=True).count(),
        "categories": KBCategoryPage.objects.count(),
        "related links": ArticleRelatedLink.objects.count(),
        "translated (fa/ar sharing an en article's key)": _translated_count(),
    }


def _translated_count() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM kb_pages_articlepage a "
            "JOIN wagtailcore_page p ON p.id = a.page_ptr_id "
            "JOIN wagtailcore_locale l ON l.id = p.locale_id "
            "WHERE l.language_code <> 'en' AND EXISTS "
            "(SELECT 1 FROM wagtailcore_page q JOIN wagtailcore_locale m ON m.id = q.locale_id "
            "WHERE q.translation_key = p.translation_key AND m.language_code = 'en')"
        )
        return cursor.fetchone()[0]


def words_sample(n: int = 200) -> tuple[float, float]:
    """Mean words and blocks per article body over a sample of plans."""
    from wagtail.rich_text import get_text_for_indexing

    words = blocks = 0
    for index in range(0, ARTICLES, ARTICLES // n):
        plan = article_plan(index, image_ids=[1])
        blocks += len(plan.body)
        for block in plan.body:
            words += len(get_text_for_indexing(str(block["value"])).split())
    return words / n, blocks / n


def vacuum_analyze() -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in (
            "wagtailcore_page", "kb_pages_articlepage", "wagtailsearch_indexentry",
            "kb_pages_articlepagetag", "kb_pages_articlerelatedlink", "kb_pages_articlestats",
            "taggit_tag", "wagtailcore_referenceindex",
        ):  # fmt: skip
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - started


# --- main -----------------------------------------------------------------------------


def arguments_parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=ARTICLES, help="target article count")
    parser.add_argument("--batch", type=int, default=BATCH, help="articles per transaction")
    parser.add_argument(
        "--reset", action="store_true", help="delete and re-provision the tenant first"
    )
    parser.add_argument(
        "--compare", type=int, default=0, metavar="N",
        help="also time N articles added one by one the editor's way (rolled back)",
    )  # fmt: skip
    parser.add_argument("--no-checks", action="store_true", help="skip the checks at the end")
    args = parser.parse_args(argv)
    if args.articles < 1 or args.batch < 1 or args.articles > ARTICLES:
        parser.error(f"--articles must be 1..{ARTICLES} and --batch positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = arguments_parse(argv)
    from bench.provisioning import database_ensure, django_configure, platform_migrate

    django_configure()
    database_ensure()
    import django

    django.setup()
    from django.utils import timezone

    from accounts.models import User
    from kb_pages.models import ArticlePage
    from tenants.context import tenant_schema

    run_started = time.perf_counter()
    started_at = timezone.now()
    progress("migrating the platform (public, template, pool, tenants)...")
    platform_migrate()
    tenant, created = tenant_ensure(reset=args.reset)
    if created:
        pool_refills_forget(started_at)
    schema = tenant.schema_name
    progress(f"tenant {SLUG} ({schema}) {'provisioned' if created else 'reused'}")
    RARE_BY_ARTICLE.update(_rare_assignments())

    with tenant_schema(schema):
        t0 = time.perf_counter()
        trees = trees_ensure()
        image_ids = images_ensure()
        setup_s = time.perf_counter() - t0
        owner_id = User.objects.filter(email=OWNER_EMAIL).values_list("pk", flat=True).first()
        known = known_load(trees)
        existing = ArticlePage.objects.count()
        if existing != len(known.articles) or set(known.articles) != set(range(existing)):
            raise SystemExit(
                f"{SLUG} holds {existing} articles that are not bench articles 0..{existing - 1}: "
                "run with --reset"
            )
        stats = LoadStats()
        load_started = time.perf_counter()
        if existing >= args.articles:
            progress(
                f"{existing:,} articles already there (target {args.articles:,}): nothing to load"
            )
        else:
            if existing:
                progress(f"resuming after {existing:,} articles")
            for start in range(existing, args.articles, args.batch):
                t = time.perf_counter()
                plans = [
                    article_plan(i, image_ids=image_ids)
                    for i in range(start, min(start + args.batch, args.articles))
                ]
                stats.plan_s += time.perf_counter() - t
                batch_insert(plans=plans, trees=trees, known=known, owner_id=owner_id, stats=stats)
                done = start + len(plans)
                elapsed = time.perf_counter() - load_started
                rate = stats.articles / elapsed
                progress(
                    f"  {done:,}/{args.articles:,} articles  {rate:,.0f}/s  "
                    f"eta {(args.articles - done) / rate / 60:.1f} min"
                )
        load_s = time.perf_counter() - load_started
        featured_set(trees)
        vacuum_s = vacuum_analyze() if stats.articles else 0.0
        compared = (
            compare_editor_way(count=args.compare, trees=trees, image_ids=image_ids)
            if args.compare
            else {}
        )
        total_s = time.perf_counter() - run_started

        print(f"tenant {SLUG} ({schema})")
        for name, value in counts().items():
            print(f"{name}: {value:,}")
        words, blocks = words_sample()
        print(f"body: {words:.0f} words in {blocks:.1f} blocks per article on average")
        print(f"trees, categories, images: {setup_s:8.1f} s")
        if stats.articles:
            print(
                f"articles {stats.articles:,} (tags {stats.tags:,}, "
                f"related links {stats.related:,}): "
                f"{load_s:.1f} s = {stats.articles / load_s:,.0f} articles/s"
            )
            print(
                f"  generating {stats.plan_s:.1f} s, inserting {stats.insert_s:.1f} s, "
                f"search index {stats.index_s:.1f} s, reference index {stats.references_s:.1f} s"
            )
            print(f"VACUUM ANALYZE: {vacuum_s:.1f} s")
        for label, ms in compared.items():
            print(
                f"one by one, {label}: {ms:.1f} ms per article "
                f"(10,000 would take {ms * ARTICLES / 1000 / 60:.1f} min)"
            )
        print(f"whole run: {total_s:.1f} s ({total_s / 60:.1f} min)")
        if not args.no_checks:
            problems, tree_s = tree_check()
            names = (
                "bad characters",
                "bad step length",
                "orphans",
                "wrong depth",
                "wrong numchild",
            )
            print(
                f"Page.find_problems() ({tree_s:.1f} s): "
                + ", ".join(f"{name} {len(ids)}" for name, ids in zip(names, problems, strict=True))
            )
            print(f"check url paths not parent's + slug: {url_paths_check()}")
            for name, value in index_check().items():
                print(f"check {name}: {value:,}")
            equal, sampled = index_matches_signal_path()
            print(
                "search index rows equal to a page save's re-index: "
                f"{equal}/{sampled} sampled articles"
            )


if __name__ == "__main__":
    main()
