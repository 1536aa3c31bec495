#!/usr/bin/env python3
"""Helpers for bench/run.sh: the synthetic corpus, timed runs, the serve
edit-to-reload measurement and the final report.

Standard library only (Python 3.11), so the benchmark runs on any machine
with the Rust toolchain and a python3, without a virtualenv.

Subcommands:
  generate   write a synthetic site of S sections x P pages (config, theme, content)
  hugo-site  write a bare Hugo site that reads the same content/
  measure    run a command several times; record best wall time, peak RSS
  output     record the median page size and the output size per page
  serve      time "edit a page" -> "event: reload" under `site-gen serve`
  report     print the table of figures, ratios and targets
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import queue
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

# Fixed so that every run of the benchmark builds byte-identical content:
# figures from different days are then comparable.
SEED = 20261123

# --------------------------------------------------------------------------
# Text material. Realistic sentences matter: the Markdown parser, the slug
# code and the HTML escaper all behave differently on CJK text than on
# lorem ipsum, and the handbook is Chinese.

SENTENCES = [
    "业主在办理装修申请前，应先到客服中心领取《装修管理协议》并仔细阅读。",
    "物业服务中心每天八点半至十七点半对外办公，节假日安排专人值班。",
    "公共区域的照明、电梯和消防设施由工程部按月巡检，巡检记录在前台公示。",
    "如发现楼道内堆放杂物，请及时告知楼栋管家，以免影响消防通道畅通。",
    "物业费按建筑面积计收，每季度第一个月十五日前缴纳当季费用。",
    "逾期未缴的物业费，客服人员会先以电话和短信方式提醒，不会直接停水停电。",
    "业主可以通过微信公众号、银行转账或到前台刷卡等方式缴纳物业费。",
    "室内维修属于业主自用部分的，物业可以代为联系维修人员，材料费由业主承担。",
    "共用管道、外墙和屋面的渗漏属于公共维修范围，费用从维修资金中列支。",
    "装修施工时间为工作日上午八点至十二点、下午两点至六点，周末和节假日禁止产生噪音的作业。",
    "装修垃圾应当袋装后运到指定的临时堆放点，不得倒入生活垃圾桶。",
    "装修押金在竣工验收合格、且未损坏公共设施的情况下全额退还。",
    "电梯困人时，请保持冷静，按下轿厢内的紧急呼叫按钮，值班人员会在五分钟内回应。",
    "发现燃气泄漏时，请不要开关任何电器，立即打开门窗并到室外拨打燃气公司电话。",
    "小区每年组织两次消防演练，届时会提前三天在各楼栋大堂张贴通知。",
    "冬季来临前，请检查阳台和厨房的水管保温情况，防止管道冻裂。",
    "外来车辆进入小区需要在岗亭登记，临时停车超过两小时按标准收费。",
    "业主办理车位月卡时，需要携带行驶证、身份证和房产证明复印件。",
    "快递和外卖一律送到小区门口的智能柜，配送人员不得进入楼栋。",
    "宠物出户须拴绳并由成年人牵引，犬只粪便请主人自行清理。",
    "二次供水水箱每半年清洗消毒一次，清洗期间会分时段停水。",
    "停水停电的计划通知至少提前二十四小时发布，并通过短信发送给登记过手机号的业主。",
    "投诉受理后，客服中心会在一个工作日内联系业主，并在三个工作日内给出处理意见。",
    "对处理结果不满意的，业主可以要求客服经理复核，复核结果在五个工作日内答复。",
    "业主的个人信息仅用于物业服务，未经本人同意不会提供给任何第三方。",
    "出租房屋的业主，应当在租户入住前到客服中心办理租户登记。",
    "搬家需要提前一天预约货梯，并由保安人员陪同检查搬出物品。",
    "楼顶平台和设备机房属于危险区域，非工作人员禁止进入。",
    "雨季期间，工程部会加强对地下车库排水泵的检查，确保排水畅通。",
    "台风或暴雨预警发布后，请收好阳台上的花盆和晾晒衣物。",
    "业主委员会每季度召开一次例会，会议纪要在公告栏和公众号同步公布。",
    "公共收益的收支情况每半年公示一次，业主可以到客服中心查阅明细。",
    "门禁卡丢失的，请携带身份证到前台办理挂失和补卡，补卡需支付工本费。",
    "访客来访时，门岗会电话确认业主身份后再放行。",
    "垃圾分类投放时间为早上七点至九点、晚上六点至八点，其余时间投放点关闭。",
    "大件家具和装修垃圾不属于生活垃圾，需要预约清运并另行付费。",
    "绿化带内禁止种植蔬菜或私自搭建围栏，已有的请在本月底前自行清理。",
    "高空抛物不仅危害他人安全，还可能承担法律责任，请大家共同监督。",
    "消防栓、灭火器等消防器材严禁挪作他用，损坏的应当照价赔偿。",
    "儿童游乐设施每周检查一次，发现损坏会立即停用并张贴提示。",
    "会所健身房仅对本小区业主开放，首次使用需要登记并签署安全告知书。",
    "游泳池开放期间配有救生员，未成年人须由监护人陪同入场。",
    "夜间巡逻每两小时一次，巡逻路线覆盖各楼栋出入口和地下车库。",
    "监控录像保存三十天，调取录像需要经过派出所或物业经理同意。",
    "业主对物业服务有任何意见或建议，都可以通过线上表单提交。",
    "维修人员上门时会出示工作证，请业主核实身份后再开门。",
    "紧急维修二十四小时响应，一般维修在预约时间内上门处理。",
    "维修完成后，业主可以在回访电话中对服务进行评价。",
    "每年年底，物业会发布下一年度的服务计划和收费标准说明。",
    "新入住的业主请先到客服中心领取《业主手册》和门禁卡。",
]

# Some headings carry punctuation, ASCII and digits so heading ids go
# through every branch of the slug rules ("第一步：提交申请" -> "第一步提交申请",
# "A/B 栋 停车位" -> "ab-栋-停车位").
H2_TITLES = [
    "办理流程", "收费标准", "服务时间", "常见问题", "联系方式", "适用范围",
    "第一步：提交申请", "第二步：现场核查", "第三步：办结回访",
    "费用（按月计）", "Q&A：业主常问", "24 小时值班", "A/B 栋 停车位",
    "安全提示", "处理时限", "相关规定", "温馨提示", "责任划分",
]
# Drawn with replacement within one page, so repeated h3 titles (and the
# `-1`, `-2` ids GitHub gives them) are common, as in the real handbook.
H3_TITLES = [
    "注意事项", "所需材料", "办理时限", "费用说明", "特殊情况", "办理地点",
    "线上办理", "线下办理", "业主须知", "紧急情况",
]
TOPICS = [
    "装修申请", "物业费缴纳", "报修流程", "投诉处理", "车位管理", "门禁卡办理",
    "电梯安全", "消防安全", "垃圾分类", "宠物管理", "二次供水", "房屋出租登记",
    "搬家预约", "快递收发", "公共收益公示", "会所使用", "冬季防冻", "雨季防汛",
]
LIST_ITEMS = [
    "业主身份证原件及复印件", "房产证或购房合同复印件", "装修施工图纸一份",
    "施工单位营业执照复印件", "施工人员名单及联系电话", "装修押金缴纳凭证",
    "车辆行驶证复印件", "租赁合同复印件", "委托办理的须提供授权委托书",
    "近期一寸照片两张", "缴费发票或收据", "维修前后的现场照片",
]
TABLE_ROWS = [
    ("住宅物业费", "2.80 元/平方米·月", "按季度缴纳"),
    ("商铺物业费", "5.50 元/平方米·月", "按月缴纳"),
    ("地下车位管理费", "80 元/个·月", "按年缴纳"),
    ("临时停车费", "前两小时免费，之后 5 元/小时", "离场时缴纳"),
    ("装修押金", "3000 元", "竣工验收后退还"),
    ("装修垃圾清运费", "0.5 元/平方米", "办理装修时缴纳"),
    ("门禁卡补办", "20 元/张", "当场办理"),
    ("大件垃圾清运", "50 元/次", "预约时缴纳"),
]

# --------------------------------------------------------------------------
# Heading ids, exactly as site-gen documents them: github-slugger rules.


def slug(text: str) -> str:
    out = []
    for c in text.strip().lower():
        if c == " ":
            out.append("-")
        elif c in "-_" or c.isalnum():
            out.append(c)
    return "".join(out)


class HeadingIds:
    """github-slugger's numbering: the base slug's counter goes up until
    the candidate is free."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def next(self, text: str) -> str:
        base = slug(text)
        candidate = base
        while candidate in self.seen:
            self.seen[base] += 1
            candidate = f"{base}-{self.seen[base]}"
        self.seen[candidate] = 0
        return candidate


# --------------------------------------------------------------------------
# generate


def yaml_str(s: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar; ensure_ascii=False
    # keeps the Chinese readable in the generated files.
    return json.dumps(s, ensure_ascii=False)


def parse_shape(text: str) -> tuple[int, int]:
    """`100x100` -> (sections, pages per section)."""
    m = re.fullmatch(r"([1-9][0-9]*)x([1-9][0-9]*)", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r}: write a shape as SECTIONSxPAGES, e.g. 10x1000")
    return int(m.group(1)), int(m.group(2))


def shape_pages(shape: str) -> int:
    sections, per_section = parse_shape(shape)
    return sections * per_section


def section_name(i: int) -> str:
    return f"s{i:03d}"


def page_name(j: int) -> str:
    return f"p{j:04d}.md"


def plan_pages(rng, n_sections: int, per_section: int):
    """Pass 1: every page's title and headings, so pass 2 can link to
    headings that exist."""
    sections = []  # list of lists of page plans
    for _ in range(n_sections):
        count = per_section
        pages = []
        for j in range(count):
            ids = HeadingIds()
            headings = []  # (level, text, id)
            for h2 in rng.sample(H2_TITLES, rng.randint(3, 5)):
                headings.append((2, h2, ids.next(h2)))
                for _ in range(rng.randint(0, 2)):
                    h3 = rng.choice(H3_TITLES)
                    headings.append((3, h3, ids.next(h3)))
            pages.append(
                {
                    "title": f"{rng.randint(1, 36)}号楼{rng.choice(TOPICS)}",
                    "headings": headings,
                }
            )
        sections.append(pages)
    return sections


def link_to(rng, sections, s: int, j: int) -> str:
    """A relative Markdown link from page (s, j) to another page, sometimes
    to one of its headings, sometimes to a section index."""
    kind = rng.random()
    if kind < 0.45:
        # Same section: `p018.md#heading`.
        t = s
        q = rng.randrange(len(sections[t]))
        if q == j:
            q = (q + 1) % len(sections[t])
    elif kind < 0.9:
        # Another section: `../s003/p017.md`, maybe with a heading.
        t = rng.randrange(len(sections))
        q = rng.randrange(len(sections[t]))
    else:
        t = rng.randrange(len(sections))
        return f"[第 {t + 1} 区服务指南](../{section_name(t)}/_index.md)"
    target = sections[t][q]
    path = page_name(q) if t == s else f"../{section_name(t)}/{page_name(q)}"
    if q == j and t == s:  # a one-page section: link to a heading on itself
        path = ""
    if rng.random() < 0.7 or not path:
        _, text, hid = rng.choice(target["headings"])
        return f"[{target['title']} · {text}]({path}#{hid})"
    return f"[{target['title']}]({path})"


def render_page(rng, sections, s: int, j: int) -> str:
    plan = sections[s][j]
    date = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(1000))
    updated = date + dt.timedelta(days=rng.randrange(120))
    front = [
        "---",
        f"title: {yaml_str(plan['title'])}",
        f"summary: {yaml_str(rng.choice(SENTENCES))}",
        f"weight: {j + 1}",
        f"date: {date.isoformat()}",
        f"updated: {updated.isoformat()}",
        "---",
        "",
    ]
    # Blocks are lists of sentences (paragraphs) or fixed strings (headings,
    # lists, tables); paragraphs grow until the page reaches its size.
    blocks: list = [[rng.choice(SENTENCES) for _ in range(2)]]
    paragraphs = [blocks[0]]
    h2_seen = 0
    for level, text, _ in plan["headings"]:
        blocks.append("#" * level + " " + text)
        para = [rng.choice(SENTENCES)]
        blocks.append(para)
        paragraphs.append(para)
        if level == 2:
            h2_seen += 1
            if h2_seen == 1:
                items = rng.sample(LIST_ITEMS, rng.randint(3, 5))
                blocks.append("\n".join(f"- {it}" for it in items))
            elif h2_seen == 2:
                rows = rng.sample(TABLE_ROWS, rng.randint(3, 5))
                blocks.append(
                    "| 项目 | 标准 | 说明 |\n| --- | --- | --- |\n"
                    + "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
                )
    for _ in range(rng.randint(2, 3)):
        rng.choice(paragraphs).append(
            f"详细要求请参阅{link_to(rng, sections, s, j)}。"
        )

    def text() -> str:
        body = "\n\n".join(b if isinstance(b, str) else "".join(b) for b in blocks)
        return "\n".join(front) + body + "\n"

    target = rng.randint(2300, 3800)
    size = len(text().encode())
    while size < target:
        sentence = rng.choice(SENTENCES)
        rng.choice(paragraphs).append(sentence)
        size += len(sentence.encode())
    return text()


def cmd_generate(args) -> None:
    rng = random.Random(SEED)
    site = Path(args.out)
    content = site / "content"
    content.mkdir(parents=True)
    shutil.copytree(args.theme, site / "themes" / "default")
    # The shape of the repository's config.yaml, without the menu: its
    # entries point at sections this corpus does not have.
    (site / "config.yaml").write_text(
        "title: 翠湖苑业主服务手册（基准测试）\n"
        "description: 由 bench/corpus.py 生成的合成站点，用于测量 site-gen 的构建速度和内存。\n"
        "base_url: https://handbook.example.org\n"
        "language: zh-Hans\n"
        "theme: default\n"
        "contact:\n"
        "  phone: 0571-8888 6666\n"
        "  hours: 客服前台每天 8:30–17:30；值班电话 24 小时有人接听\n"
        "  address: 小区会所一楼客服中心\n"
        "menu: []\n",
        encoding="utf-8",
    )
    sections = plan_pages(rng, args.sections, args.per_section)
    n_pages = args.sections * args.per_section
    home = [
        "---",
        'title: "业主服务手册"',
        'summary: "合成的业主服务手册，用于构建性能测试。"',
        "weight: 0",
        "updated: 2026-11-23",
        "---",
        "",
        rng.choice(SENTENCES),
        "",
    ]
    home += [
        f"- [第 {i + 1} 区服务指南]({section_name(i)}/_index.md)"
        for i in range(len(sections))
    ]
    (content / "_index.md").write_text("\n".join(home) + "\n", encoding="utf-8")
    total_bytes = 0
    for s, pages in enumerate(sections):
        folder = content / section_name(s)
        folder.mkdir()
        (folder / "_index.md").write_text(
            "---\n"
            f'title: "第 {s + 1} 区服务指南"\n'
            f"summary: {yaml_str(rng.choice(SENTENCES))}\n"
            f"weight: {s + 1}\n"
            "updated: 2026-11-01\n"
            "---\n\n"
            f"{rng.choice(SENTENCES)}从[第一篇]({page_name(0)})开始阅读。\n",
            encoding="utf-8",
        )
        for j in range(len(pages)):
            text = render_page(rng, sections, s, j)
            total_bytes += len(text.encode())
            (folder / page_name(j)).write_text(text, encoding="utf-8")
    print(
        f"generated {n_pages} pages in {len(sections)} sections of {args.per_section}, "
        f"{total_bytes / n_pages / 1024:.1f} KiB of Markdown per page on average, in {site}"
    )


# --------------------------------------------------------------------------
# hugo-site

HUGO_BASEOF = """<!doctype html>
<html lang="{{ site.LanguageCode }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ .Title }} - {{ site.Title }}</title>
<meta name="description" content="{{ with .Params.summary }}{{ . }}{{ else }}{{ site.Params.description }}{{ end }}">
</head>
<body>
<header><a href="{{ "/" | relURL }}">{{ site.Title }}</a></header>
<main>
{{ block "main" . }}{{ end }}
</main>
</body>
</html>
"""

HUGO_SINGLE = """{{ define "main" }}
<article>
<h1>{{ .Title }}</h1>
<div class="content">
{{ .Content }}
</div>
</article>
{{ end }}
"""

HUGO_LIST = """{{ define "main" }}
<h1>{{ .Title }}</h1>
<div class="content">
{{ .Content }}
</div>
<ul>
{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>
{{ end }}</ul>
{{ end }}
"""


def cmd_hugo_site(args) -> None:
    site = Path(args.out)
    layouts = site / "layouts" / "_default"
    layouts.mkdir(parents=True)
    content = Path(args.content).resolve()
    (site / "hugo.toml").write_text(
        'baseURL = "https://handbook.example.org/"\n'
        'languageCode = "zh-Hans"\n'
        'title = "翠湖苑业主服务手册（基准测试）"\n'
        f"contentDir = {json.dumps(str(content))}\n"
        # Hugo's cache otherwise lands in $TMPDIR/hugo_cache and outlives
        # the benchmark's temporary folder.
        f"cacheDir = {json.dumps(str(site.resolve() / 'cache'))}\n"
        'disableKinds = ["taxonomy", "term", "RSS"]\n'
        "[params]\n"
        'description = "由 bench/corpus.py 生成的合成站点"\n'
        "[markup.goldmark.renderer]\n"
        "unsafe = false\n",
        encoding="utf-8",
    )
    (layouts / "baseof.html").write_text(HUGO_BASEOF, encoding="utf-8")
    (layouts / "single.html").write_text(HUGO_SINGLE, encoding="utf-8")
    (layouts / "list.html").write_text(HUGO_LIST, encoding="utf-8")
    (site / "layouts" / "index.html").write_text(HUGO_LIST, encoding="utf-8")


# --------------------------------------------------------------------------
# measure


def mb(kib: float) -> float:
    """ru_maxrss is in KiB on Linux; targets and references are in MB."""
    return kib * 1024 / 1e6


def run_once(cmd: list[str], log: Path, timeout: float) -> tuple[float, int, int]:
    """Runs `cmd`; returns (wall seconds, exit code, peak RSS in KiB).

    os.wait4 gives the rusage of exactly this child (and its reaped
    descendants). RUSAGE_CHILDREN would be a high-water mark over every
    child this helper ever ran, and /usr/bin/time is not on every machine.
    """
    with open(log, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            proc.kill()

        killer = threading.Timer(timeout, kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # reaped already: keep Popen from waiting again
    if timed_out.is_set():
        print(f"  timed out after {timeout:.0f} s")
        code = code or -1
    return elapsed, code, usage.ru_maxrss


def cmd_measure(args) -> None:
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    log = Path(args.results).with_name(f"{args.tool}-{args.shape}.log")
    times, rss = [], []
    for i in range(args.runs):
        elapsed, code, maxrss = run_once(cmd, log, args.timeout)
        output = log.read_text(encoding="utf-8", errors="replace")
        if code != 0:
            print(f"{args.tool} failed (exit {code}) on run {i + 1}: {' '.join(cmd)}")
            print(output[-6000:])
            sys.exit(1)
        times.append(elapsed)
        rss.append(maxrss)
        print(f"  {args.tool} run {i + 1}/{args.runs}: {elapsed:.3f} s, peak {mb(maxrss):.0f} MB")
    # Anything the tool printed besides its usual one-line summary is worth
    # a look (warnings, deprecations), so keep the last run's output.
    record = {
        "kind": "build",
        "tool": args.tool,
        "shape": args.shape,
        "pages": shape_pages(args.shape),
        "times": times,
        "best": min(times),
        "peak_kib": max(rss),
        "output": output.strip()[-2000:],
    }
    with open(args.results, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------
# output


def cmd_output(args) -> None:
    """The median size of the built HTML pages and the whole output folder
    per content page: both must not grow with the size of a section."""
    sizes, total = [], 0
    for path in Path(args.dir).rglob("*"):
        if path.is_file():
            size = path.stat().st_size
            total += size
            if path.name == "index.html":
                sizes.append(size)
    pages = shape_pages(args.shape)
    record = {
        "kind": "output",
        "tool": args.tool,
        "shape": args.shape,
        "pages": pages,
        "html_files": len(sizes),
        "median_page": statistics.median(sizes) if sizes else 0,
        "total": total,
        "per_page": total / pages,
    }
    print(
        f"  {args.tool} output: {len(sizes)} pages, median {record['median_page'] / 1000:.1f} KB, "
        f"{total / 1e6:.0f} MB in all, {record['per_page'] / 1000:.1f} KB per content page"
    )
    with open(args.results, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


# --------------------------------------------------------------------------
# serve


class Server:
    """`site-gen serve` with its output drained in the background: a full
    stdout pipe would stall the server and the measurement with it."""

    def __init__(self, cmd: list[str], pid_file: Path):
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,  # Ctrl-C goes to us; we stop it ourselves
        )
        pid_file.write_text(str(self.proc.pid))
        self.lines: "queue.Queue[tuple[float, str, str]]" = queue.Queue()
        self.log: list[tuple[float, str, str]] = []
        for name, stream in (("out", self.proc.stdout), ("err", self.proc.stderr)):
            threading.Thread(target=self._pump, args=(name, stream), daemon=True).start()

    def _pump(self, name, stream) -> None:
        for line in stream:
            item = (time.perf_counter(), name, line.rstrip("\n"))
            self.log.append(item)
            self.lines.put(item)

    def wait_for_port(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                _, _, line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            m = re.search(r"Serving http://127\.0\.0\.1:(\d+)/", line)
            if m:
                return int(m.group(1))
        raise RuntimeError(
            "site-gen serve did not print its address:\n"
            + "\n".join(l for _, _, l in self.log[-30:])
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            # SIGINT is its Ctrl-C: graceful shutdown. Only if that hangs
            # (e.g. an event stream still open) is it killed.
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


class EventStream:
    """The live-reload Server-Sent-Events stream, read in a thread; each
    event is queued with the time its `event:` line arrived."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.conn.request("GET", "/__livereload", headers={"Accept": "text/event-stream"})
        resp = self.conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(f"GET /__livereload answered {resp.status}")
        # The server subscribes before it answers, so from here on no
        # rebuild can be missed.
        self.conn.sock.settimeout(None)
        self.events: "queue.Queue[tuple[float, str, str]]" = queue.Queue()
        threading.Thread(target=self._read, args=(resp,), daemon=True).start()

    def _read(self, resp) -> None:
        name, at, data = None, 0.0, []
        try:
            while True:
                line = resp.readline()
                if not line:
                    return
                line = line.decode("utf-8", "replace").rstrip("\r\n")
                if line.startswith("event:"):
                    name, at = line[6:].strip(), time.perf_counter()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "" and name:
                    self.events.put((at, name, "\n".join(data)))
                    name, data = None, []
        except Exception:  # noqa: BLE001 - closing the stream ends this thread, however http.client reacts
            return

    def close(self) -> None:
        try:
            self.conn.sock.shutdown(2)
        except OSError:
            pass
        self.conn.close()


def cmd_serve(args) -> None:
    # Turn a kill into an exception, so `finally` below stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    site = Path(args.root)
    page = site / "content" / section_name(0) / page_name(5)
    rng = random.Random(SEED + 1)
    server = Server(
        [args.bin, "serve", "--root", str(site), "--port", "0", "--data", str(Path(args.data))],
        Path(args.pid_file),
    )
    samples, failures, extra = [], [], 0
    stream = None
    try:
        port = server.wait_for_port(timeout=args.timeout)
        stream = EventStream(port)
        time.sleep(0.5)  # let the watcher settle after the first build
        for i in range(args.edits):
            while not stream.events.empty():
                stream.events.get_nowait()
            sentence = rng.choice(SENTENCES)
            started = time.perf_counter()
            with open(page, "a", encoding="utf-8") as f:
                f.write(f"\n补充说明（第 {i + 1} 次修改）：{sentence}\n")
            try:
                at, name, data = stream.events.get(timeout=args.timeout)
            except queue.Empty:
                failures.append(f"edit {i + 1}: no event within {args.timeout:.0f} s")
                continue
            ms = (at - started) * 1000
            if name != "reload":
                failures.append(f"edit {i + 1}: event `{name}`: {data[:500]}")
                continue
            samples.append(ms)
            print(f"  edit {i + 1}/{args.edits}: reload after {ms:.0f} ms")
            # A second reload for the same save means the watcher rebuilt
            # twice; count it, it doubles the work on every edit.
            time.sleep(0.4)
            while not stream.events.empty():
                stream.events.get_nowait()
                extra += 1
    except (RuntimeError, OSError, http.client.HTTPException) as e:
        # Reported, not fatal by itself: only a failed build fails the run
        # (checked at the end of this function).
        failures.append(f"serve measurement stopped: {e}")
    finally:
        if stream:
            stream.close()
        server.stop()
        try:
            Path(args.pid_file).unlink()
        except FileNotFoundError:
            pass
    builds = [
        int(m.group(1))
        for _, _, line in server.log
        if (m := re.search(r"^Built .* in (\d+) ms", line))
    ]
    errors = [line for _, name, line in server.log if name == "err" and line.strip()]
    record = {
        "kind": "serve",
        "shape": args.shape,
        "pages": shape_pages(args.shape),
        "samples_ms": samples,
        "failures": failures,
        "extra_reloads": extra,
        # The first build is the one at start-up; the rest are rebuilds.
        "rebuild_ms": builds[1:],
        "stderr": errors[-20:],
    }
    with open(args.results, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")
    for line in failures + errors[-20:]:
        print(f"  ! {line}")
    build_failed = not builds or any("event `failed`" in f for f in failures)
    if build_failed:
        print("site-gen serve: a build failed (see above)")
        sys.exit(1)


# --------------------------------------------------------------------------
# report

# Recorded on a 2-core machine with a minimal template (see bench/README.md);
# used only when hugo is not installed.
REFERENCE = {
    "hugo": {"best": 5.4, "peak_mb": 1200},
    "zola": {"best": 5.8, "peak_mb": 390},
}
TARGET_TIME_RATIO = 0.67
TARGET_PEAK_MB = 100
TARGET_MEDIAN_PAGE_KB = 25
TARGET_RELOAD_MS = 100
TARGET_PAGES = 10000  # the build, memory and reload targets are stated for it
# "Linear in the page count": the output per content page may vary this
# much between shapes (sizes and section sizes), no more.
LINEAR_SPREAD = 0.10


def cmd_report(args) -> None:
    records = [json.loads(l) for l in Path(args.results).read_text(encoding="utf-8").splitlines() if l]
    builds = {(r["tool"], r["shape"]): r for r in records if r["kind"] == "build"}
    outputs = {(r["tool"], r["shape"]): r for r in records if r["kind"] == "output"}
    serves = {r["shape"]: r for r in records if r["kind"] == "serve"}
    shapes = sorted({sh for _, sh in builds}, key=lambda sh: (shape_pages(sh), sh))

    print()
    print("=" * 100)
    print(f"site-gen benchmark  ({os.cpu_count()} CPUs; best of {args.runs} runs; peak = max RSS over the runs)")
    print("=" * 100)
    head = (
        f"{'shape':>9} {'pages':>6}  {'tool':<10} {'best s':>8} {'peak MB':>8}  {'x Hugo':>6}"
        f"  {'median KB':>9} {'KB/page':>8}   all runs, s"
    )
    print(head)
    print("-" * len(head))
    for sh in shapes:
        n = shape_pages(sh)
        hg = builds.get(("hugo", sh))
        for tool, label in (("site-gen", "site-gen"), ("site-gen-check", "  check"), ("hugo", "hugo")):
            r = builds.get((tool, sh))
            if not r:
                continue
            ratio = f"{r['best'] / hg['best']:>6.2f}" if tool == "site-gen" and hg else f"{'':>6}"
            out = outputs.get((tool, sh))
            size = f"{out['median_page'] / 1000:>9.1f} {out['per_page'] / 1000:>8.1f}" if out else f"{'':>9} {'':>8}"
            runs = " / ".join(f"{t:.2f}" for t in r["times"])
            print(f"{sh:>9} {n:>6}  {label:<10} {r['best']:>8.3f} {mb(r['peak_kib']):>8.0f}  {ratio}  {size}   {runs}")
    print("(check = site-gen check: every page rendered, nothing written; x Hugo = wall time / Hugo's;")
    print(" median KB = median HTML page; KB/page = the whole output folder / content pages)")
    # Best-of-N hides a slow run; a wide spread usually means the disk
    # (site-gen's later runs also delete the previous output), so say so.
    for (tool, sh), r in sorted(builds.items()):
        if max(r["times"]) > 2 * r["best"]:
            print(f"! {tool}, {sh}: runs ranged {r['best']:.2f}-{max(r['times']):.2f} s; the best figure is optimistic")
    if not any(t == "hugo" for t, _ in builds):
        print()
        print("Hugo was not run (not installed, or HUGO= was set): no same-machine comparison.")
        print("Recorded reference figures (10,000 pages, minimal template, 2-core machine):")
        for name, ref in REFERENCE.items():
            print(f"  {name:<5} {ref['best']:.1f} s, {ref['peak_mb']:.0f} MB")
    for sh, serve in sorted(serves.items()):
        s = serve["samples_ms"]
        print()
        print(f"serve, edit one page -> `event: reload` ({sh}, {serve['pages']} pages, {len(s)} edits):")
        if s:
            print(f"  median {statistics.median(s):.0f} ms, max {max(s):.0f} ms   (samples: {', '.join(f'{x:.0f}' for x in s)})")
        if serve["rebuild_ms"]:
            print(f"  of which site-gen's own rebuild (its `Built ... in N ms`): {', '.join(map(str, serve['rebuild_ms']))} ms")
        if serve["extra_reloads"]:
            print(f"  ! {serve['extra_reloads']} extra reload event(s): one save caused more than one rebuild")
        for f in serve["failures"]:
            print(f"  ! {f}")

    # Targets: reported, never enforced (the script fails only on a failed build).
    print()
    print("targets")

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    big = [sh for sh in shapes if shape_pages(sh) == TARGET_PAGES]
    if not big:
        print(f"  (no {TARGET_PAGES}-page shape was run: the build, memory and reload targets are stated for it)")
    for sh in big:
        sg, hg = builds.get(("site-gen", sh)), builds.get(("hugo", sh))
        if sg and hg:
            r = sg["best"] / hg["best"]
            print(f"  {sh:>9} build <= {TARGET_TIME_RATIO} x Hugo's time:  {r:.2f} x Hugo -> {verdict(r <= TARGET_TIME_RATIO)}")
        elif sg:
            r = sg["best"] / REFERENCE["hugo"]["best"]
            print(f"  {sh:>9} build <= {TARGET_TIME_RATIO} x Hugo's time:  {r:.2f} x recorded Hugo figure (other machine) -> {verdict(r <= TARGET_TIME_RATIO)}?")
        if sg:
            peak = mb(sg["peak_kib"])
            print(f"  {sh:>9} build peak memory < {TARGET_PEAK_MB} MB:   {peak:.0f} MB -> {verdict(peak < TARGET_PEAK_MB)}")
        out = outputs.get(("site-gen", sh))
        if out:
            kb = out["median_page"] / 1000
            print(f"  {sh:>9} median page < {TARGET_MEDIAN_PAGE_KB} KB:         {kb:.1f} KB -> {verdict(kb < TARGET_MEDIAN_PAGE_KB)}")
        serve = serves.get(sh)
        if serve and serve["samples_ms"]:
            med = statistics.median(serve["samples_ms"])
            print(f"  {sh:>9} serve edit->reload < {TARGET_RELOAD_MS} ms: median {med:.0f} ms, max {max(serve['samples_ms']):.0f} ms -> {verdict(med < TARGET_RELOAD_MS)}")
        elif sh in serves:
            print(f"  {sh:>9} serve edit->reload < {TARGET_RELOAD_MS} ms: no reload measured")
    per_page = {sh: o["per_page"] for (tool, sh), o in outputs.items() if tool == "site-gen"}
    if len(per_page) >= 2:
        low, high = min(per_page.values()), max(per_page.values())
        spread = high / low - 1
        detail = ", ".join(f"{sh} {v / 1000:.1f}" for sh, v in sorted(per_page.items(), key=lambda kv: shape_pages(kv[0])))
        print(f"  output linear in the page count (KB per page within {LINEAR_SPREAD:.0%}): {detail} -> {verdict(spread <= LINEAR_SPREAD)}")

    # Anything unusual a tool printed: warnings are findings too.
    for (tool, sh), r in sorted(builds.items()):
        out = [l for l in r["output"].splitlines() if l.strip() and not l.startswith(("Built ", "Checked "))]
        if out:
            print()
            print(f"{tool} printed on the {sh} build:")
            for l in out[:20]:
                print(f"  | {l}")


# --------------------------------------------------------------------------


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate")
    g.add_argument("--sections", type=int, required=True)
    g.add_argument("--per-section", type=int, required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--theme", required=True)
    g.set_defaults(func=cmd_generate)

    h = sub.add_parser("hugo-site")
    h.add_argument("--content", required=True)
    h.add_argument("--out", required=True)
    h.set_defaults(func=cmd_hugo_site)

    m = sub.add_parser("measure")
    m.add_argument("--tool", required=True)
    m.add_argument("--shape", required=True, help="SECTIONSxPAGES, e.g. 10x1000")
    m.add_argument("--runs", type=int, default=3)
    m.add_argument("--timeout", type=float, default=600)
    m.add_argument("--results", required=True)
    m.add_argument("cmd", nargs=argparse.REMAINDER)
    m.set_defaults(func=cmd_measure)

    s = sub.add_parser("serve")
    s.add_argument("--bin", required=True)
    s.add_argument("--root", required=True)
    s.add_argument("--data", required=True)
    s.add_argument("--shape", required=True)
    s.add_argument("--edits", type=int, default=5)
    s.add_argument("--timeout", type=float, default=60)
    s.add_argument("--pid-file", required=True)
    s.add_argument("--results", required=True)
    s.set_defaults(func=cmd_serve)

    o = sub.add_parser("output")
    o.add_argument("--tool", required=True)
    o.add_argument("--shape", required=True)
    o.add_argument("--dir", required=True)
    o.add_argument("--results", required=True)
    o.set_defaults(func=cmd_output)

    r = sub.add_parser("report")
    r.add_argument("--results", required=True)
    r.add_argument("--runs", type=int, default=3)
    r.set_defaults(func=cmd_report)

    args = p.parse_args()
    try:
        args.func(args)
    except KeyboardInterrupt:
        sys.exit(130)  # run.sh's trap cleans up; no traceback for a Ctrl-C


if __name__ == "__main__":
    main()
