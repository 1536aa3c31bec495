// Progressive enhancement for form[data-form]; forms work without it.
(() => {
const D = document, C = crypto, IN = 'input,select,textarea', F = '.field[data-id]', J = 'application/json';
const Q = (s, r) => r.querySelector(s);
const h = (tag, at, ...kids) => {
  const e = D.createElement(tag);
  for (const k in at) e.setAttribute(k, at[k]);
  return e.append(...kids), e;
};
const token = C.randomUUID ? C.randomUUID()
  : [...C.getRandomValues(new Uint8Array(16))].map(b => (b + 256).toString(16).slice(1)).join('');

const msgOf = (el, lb) => {
  const v = el.validity, t = el.type, n = el.value.length, m = el.minLength;
  return v.valueMissing ? (t == 'checkbox' ? '请勾选此项' : (/^(radio|sel)/.test(t) ? '请选择' : '请填写') + lb)
    : v.patternMismatch && el.dataset.patternMessage ? el.dataset.patternMessage
    : v.typeMismatch || v.patternMismatch || v.badInput ? `${lb}格式不正确，请按提示填写`
    : v.tooLong ? `最多 ${el.maxLength} 个字，目前 ${n} 个字`
    : v.tooShort || n && n < m ? `至少 ${m} 个字，目前 ${n} 个字` : '';
};

// Set or clear a field error; w.id only on radio fieldsets. Returns a summary item.
const setError = (w, msg) => {
  const i = w.dataset.id, id = i + '-error', ins = w.querySelectorAll(IN), old = D.getElementById(id);
  if (old) old.remove();
  if (msg) Q('.control', w).before(h('p', { id, class: 'field-error' }, h('span', { class: 'vh' }, '错误：'), msg));
  (w.id ? w : ins[0]).setAttribute('aria-describedby', [i + '-hint', id].filter(x => D.getElementById(x)).join(' '));
  ins.forEach(n => n.setAttribute('aria-invalid', !!msg));
  w.classList.toggle('has-error', !!msg);
  return msg && [i, w.dataset.label + '：' + msg];
};
const check = w => setError(w, msgOf(Q(IN, w), w.dataset.label));

const summary = (form, items) => {
  const old = Q('.error-summary', form);
  if (old) old.remove();
  if (!items.length) return;
  const s = h('div', { class: 'error-summary', role: 'alert', tabindex: -1, 'aria-labelledby': 'error-summary-title' },
    h('h2', { id: 'error-summary-title' }, '提交未成功，请修改以下问题'),
    h('ul', {}, ...items.map(([id, t]) => h('li', {}, id ? h('a', { href: '#' + id }, t) : t))));
  form.prepend(s);
  s.focus();
};

const enhance = form => {
  form.noValidate = true;
  form.append(h('input', { type: 'hidden', name: 'submission_token', value: token }));
  const btn = Q('[type=submit]', form), label = btn.textContent, out = Q('.form-result', form);
  out.hidden = false; // keep the live region in the tree
  const busy = on => { btn.disabled = on; btn.textContent = on ? '正在提交…' : label; };
  const L = (ev, f) => form.addEventListener(ev, f);
  const on = (ev, f) => L(ev, e => { const w = e.target.closest(F); if (w) f(w); });
  on('input', w => { w.dataset.dirty = 1; if (w.matches('.has-error')) check(w); });
  on('focusout', w => { if (w.dataset.dirty) check(w); });
  L('click', e => {
    const a = e.target.closest('.error-summary a'), el = a && D.getElementById(a.hash.slice(1));
    if (el) { e.preventDefault(); (Q(IN, el) || el).focus(); }
  });

  L('submit', async e => {
    e.preventDefault(); // busy(true) runs before any await: double taps do nothing
    const errs = [...form.querySelectorAll(F)].map(check).filter(Boolean), body = {};
    summary(form, errs);
    if (errs.length) return;
    for (const el of form.elements) {
      const ty = el.type;
      if (el.name && ty != 'submit' && (el.checked || !/^(checkbox|radio)$/.test(ty)))
        body[el.name] = ty == 'checkbox' ? 'on' : el.value;
    }
    out.textContent = '';
    busy(true);
    let r, j;
    try {
      r = await fetch(form.getAttribute('action'), { method: 'POST', headers: { 'Content-Type': J, Accept: J }, body: JSON.stringify(body) });
      j = await r.json().catch(() => 0);
    } catch (_) { r = {}; }
    j = j || {};
    busy(false);
    const st = r.status, s = st == 429 && +r.headers.get('Retry-After'), ph = form.dataset.phone;
    if (r.ok && j.reference) {
      const p = h('section', { class: 'callout receipt', tabindex: -1 },
        h('h2', {}, '提交成功，受理编号'),
        h('p', { class: 'reference' }, j.reference),
        h('p', {}, j.commitment),
        h('p', {}, '处理时限：', h('time', { datetime: j.due }, j.due_display)),
        h('p', {}, h('a', { href: j.receipt_url }, '打开回执页面')));
      form.replaceWith(p);
      return p.focus();
    }
    if (st == 422 && j.errors) return summary(form, Object.entries(j.errors).map(([name, m]) => {
      const el = form.elements[name], f = el && (el.tagName ? el : el[0]), w = f && f.closest(F);
      return w ? setError(w, m) : ['', m];
    }));
    out.textContent = st == 429 ? `提交过于频繁，请${s > 0 ? ` ${s} 秒后` : '稍后'}再试。`
      : `提交没有成功，您填写的内容都还在，请稍后再试；急事请致电${ph ? ' ' + ph : '客服中心'}。`;
  });

  (Q('.error-summary', form) || out).focus();
};

D.querySelectorAll('form[data-form]').forEach(enhance);
})();
