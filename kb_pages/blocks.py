"""StreamField blocks of a knowledge-base article body."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageBlock

# Rich text in articles: formatting, lists, links and headings, no embeds inside text
# (images and videos have their own blocks, with alt text and captions).
ARTICLE_RICH_TEXT_FEATURES = [
    "h2",
    "h3",
    "h4",
    "bold",
    "italic",
    "ol",
    "ul",
    "link",
    "document-link",
    "code",
    "blockquote",
    "hr",
]
INLINE_RICH_TEXT_FEATURES = ["bold", "italic", "link", "code", "ol", "ul"]

CODE_LANGUAGES = [
    ("text", _("Plain text")),
    ("bash", _("Shell")),
    ("powershell", _("PowerShell")),
    ("python", "Python"),
    ("javascript", "JavaScript"),
    ("json", "JSON"),
    ("html", "HTML"),
    ("css", "CSS"),
    ("sql", "SQL"),
    ("yaml", "YAML"),
    ("xml", "XML"),
]


class CodeBlock(blocks.StructBlock):
    language = blocks.ChoiceBlock(choices=CODE_LANGUAGES, default="text", label=_("language"))
    code = blocks.TextBlock(label=_("code"))

    class Meta:
        icon = "code"
        label = _("Code")
        template = "kb_pages/blocks/code.html"


class CalloutBlock(blocks.StructBlock):
    tone = blocks.ChoiceBlock(
        choices=[
            ("info", _("Information")),
            ("tip", _("Tip")),
            ("warning", _("Warning")),
            ("danger", _("Danger")),
        ],
        default="info",
        label=_("tone"),
    )
    title = blocks.CharBlock(required=False, max_length=120, label=_("title"))
    text = blocks.RichTextBlock(features=INLINE_RICH_TEXT_FEATURES, label=_("text"))

    class Meta:
        icon = "warning"
        label = _("Callout")
        template = "kb_pages/blocks/callout.html"


class StepBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=200, label=_("title"))
    text = blocks.RichTextBlock(features=INLINE_RICH_TEXT_FEATURES, required=False, label=_("text"))

    class Meta:
        icon = "list-ol"
        label = _("Step")


class StepsBlock(blocks.StructBlock):
    title = blocks.CharBlock(required=False, max_length=200, label=_("title"))
    steps = blocks.ListBlock(StepBlock(), min_num=1, label=_("steps"))

    class Meta:
        icon = "list-ol"
        label = _("Numbered steps")
        template = "kb_pages/blocks/steps.html"


class FigureBlock(blocks.StructBlock):
    image = ImageBlock(label=_("image"))
    caption = blocks.CharBlock(required=False, max_length=250, label=_("caption"))

    class Meta:
        icon = "image"
        label = _("Image")
        template = "kb_pages/blocks/figure.html"


class VideoBlock(blocks.StructBlock):
    video = EmbedBlock(max_width=800, label=_("video URL"))
    caption = blocks.CharBlock(required=False, max_length=250, label=_("caption"))

    class Meta:
        icon = "media"
        label = _("Video")
        template = "kb_pages/blocks/video.html"


class ArticleBodyBlock(blocks.StreamBlock):
    text = blocks.RichTextBlock(features=ARTICLE_RICH_TEXT_FEATURES, label=_("Text"))
    code = CodeBlock()
    image = FigureBlock()
    video = VideoBlock()
    callout = CalloutBlock()
    steps = StepsBlock()
