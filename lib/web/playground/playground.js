// The handouts' 2-2-2 playground (playground.html): inputs, the iteration slider, the network diagram, the table's row
// at iteration k and the E_total curves, all redrawn as anything changes. The arithmetic is EraNetwork.row, generated
// from lib/Era/Symbolic (network.js); this file only iterates it (w <- w - lr * dE/dw, as Weights.Step does) and draws.
// State lives in the URL (?preset=classic&lr=0.5&k=181&w=…&i=…&t=…): a link shares it. A bad value, from the URL or a
// field, is one line of error on the page; what is shown stays the last good state.
(function () {
  'use strict';
  var N = EraNetwork;
  var MAX_K = Number(document.getElementById('playground').dataset.maxIterations);
  var NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  var form = document.getElementById('playground');
  var errorLine = document.getElementById('playground-error');
  var state = null;   // the last good state: { preset, i: [2], t: [2], w: [8], lr, k }

  function fail(message) { var e = new Error(message); e.bad = true; throw e; }

  function number(text, what) {
    var s = String(text).trim();
    if (!NUMBER.test(s)) fail(what + ' = "' + s + '" is not a number');
    var x = Number(s);
    if (!isFinite(x)) fail(what + ' = ' + s + ' is too large');
    return x;
  }

  function numbers(text, names) {
    var parts = String(text).split(',');
    if (parts.length !== names.length) fail(names.join(',') + ' needs ' + names.length + ' numbers, got ' + parts.length);
    return parts.map(function (p, j) { return number(p, names[j]); });
  }

  function learningRate(text) {
    var lr = number(text, 'η (lr)');
    if (!(lr > 0)) fail('η (lr) = ' + text + ' must be greater than 0');
    return lr;
  }

  function iteration(text) {
    var s = String(text).trim();
    if (!/^[+-]?\d+$/.test(s) || Number(s) < 1 || Number(s) > MAX_K)
      fail('k = ' + s + ': the iteration must be a whole number from 1 to ' + MAX_K);
    return Number(s);
  }

  function preset(name) {
    if (!Object.prototype.hasOwnProperty.call(N.presets, name))
      fail('preset = "' + name + '": expected one of ' + Object.keys(N.presets).join(', '));
    return N.presets[name];
  }

  // The state a query string describes; throws (bad) on the first value that is not one.
  function fromQuery(query) {
    var q = new URLSearchParams(query);
    var name = q.has('preset') ? q.get('preset') : 'classic';
    var p = preset(name);
    return {
      preset: name,
      i: q.has('i') ? numbers(q.get('i'), ['i1', 'i2']) : p.i.slice(),
      t: q.has('t') ? numbers(q.get('t'), ['t1', 't2']) : p.t.slice(),
      w: q.has('w') ? numbers(q.get('w'), ['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8']) : p.w.slice(),
      lr: q.has('lr') ? learningRate(q.get('lr')) : p.lr,
      k: q.has('k') ? iteration(q.get('k')) : N.iterations,
    };
  }

  function toQuery(s) {
    var p = N.presets[s.preset], q = new URLSearchParams();
    q.set('preset', s.preset);
    q.set('lr', String(s.lr));
    q.set('k', String(s.k));
    var same = function (a, b) { return a.every(function (x, j) { return x === b[j]; }); };
    if (!same(s.w, p.w)) q.set('w', s.w.join(','));
    if (!same(s.i, p.i)) q.set('i', s.i.join(','));
    if (!same(s.t, p.t)) q.set('t', s.t.join(','));
    return '?' + q.toString().replace(/%2C/g, ',');
  }

  // The state the fields describe.
  function fromForm() {
    var f = function (name) { return form.elements[name].value; };
    return {
      preset: preset(f('preset')) && f('preset'),
      i: [number(f('i1'), 'i1'), number(f('i2'), 'i2')],
      t: [number(f('t1'), 't1'), number(f('t2'), 't2')],
      w: [1, 2, 3, 4, 5, 6, 7, 8].map(function (j) { return number(f('w' + j), 'w' + j); }),
      lr: learningRate(f('lr')),
      k: iteration(f('k')),
    };
  }

  function leaves(s, w) {
    var v = { i1: s.i[0], i2: s.i[1], t1: s.t[0], t2: s.t[1] };
    for (var j = 0; j < 8; j++) v['w' + (j + 1)] = w[j];
    return v;
  }

  // Row k of the table at learning rate lr, and E_total of rows 1..n on the way (n >= k).
  function run(s, lr, k, n) {
    var w = s.w.slice(), losses = [], row = null, at = null;
    for (var it = 1; it <= n; it++) {
      row = N.row(leaves(s, w));
      losses.push(row.E_tot);
      if (it === k) at = row;
      for (var j = 0; j < 8; j++) w[j] = w[j] - lr * row['dE/dw' + (j + 1)];
    }
    return { row: at, losses: losses };
  }

  function show(s) {
    var n = Math.max(N.iterations, s.k);
    var current = run(s, s.lr, s.k, s.k);
    var bad = N.columns.filter(function (c) { return !isFinite(current.row[c]); });
    if (bad.length > 0) fail('at η = ' + s.lr + ' the run leaves the numbers a computer holds (' + bad[0] + ' at iteration ' + s.k + ')');
    var rates = N.learningRates.indexOf(s.lr) >= 0 ? N.learningRates : N.learningRates.concat([s.lr]);
    var curves = rates.map(function (lr) { return { lr: lr, losses: run(s, lr, s.k, n).losses }; });

    document.querySelectorAll('[data-playground]').forEach(function (el) {
      var name = el.dataset.playground;
      el.textContent = name === 'k' ? String(s.k) : String(current.row[name]);
    });
    drawNetwork(s, current.row);
    drawCurves(s, curves, current.row.E_tot);
    fill(s);
    state = s;
  }

  function fill(s) {
    var e = form.elements;
    e.preset.value = s.preset;
    e.i1.value = s.i[0]; e.i2.value = s.i[1]; e.t1.value = s.t[0]; e.t2.value = s.t[1];
    for (var j = 0; j < 8; j++) e['w' + (j + 1)].value = s.w[j];
    e.lr.value = s.lr;
    e.k.value = s.k;
    e.slider.max = Math.max(N.iterations, s.k);
    e.slider.value = s.k;
    document.getElementById('playground-link').href = toQuery(s);
  }

  function attempt(make, fromUrl) {
    try {
      var s = make();
      show(s);
      errorLine.hidden = true;
      errorLine.textContent = '';
      if (!fromUrl) history.replaceState(null, '', toQuery(s));
    } catch (e) {
      if (!e.bad) throw e;
      errorLine.textContent = e.message + (state ? ': showing the last good values.' : '.');
      errorLine.hidden = false;
      if (state) show(state);
    }
  }

  // --- drawing -------------------------------------------------------------------------------------------------
  var SVG = 'http://www.w3.org/2000/svg';
  function el(name, attrs, text) {
    var e = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (a) { e.setAttribute(a, attrs[a]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function short(x) { return Number(x).toPrecision(4).replace(/\.?0+(e|$)/, '$1'); }

  function drawNetwork(s, r) {
    var svg = document.getElementById('playground-network');
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var nodes = {
      i1: [40, 50, 'i1', r.i1], i2: [40, 170, 'i2', r.i2],
      h1: [180, 50, 'a_h1', r.a_h1], h2: [180, 170, 'a_h2', r.a_h2],
      o1: [320, 50, 'a_o1', r.a_o1], o2: [320, 170, 'a_o2', r.a_o2],
    };
    var edges = [['w1', 'i1', 'h1'], ['w2', 'i2', 'h1'], ['w3', 'i1', 'h2'], ['w4', 'i2', 'h2'],
                 ['w5', 'h1', 'o1'], ['w6', 'h2', 'o1'], ['w7', 'h1', 'o2'], ['w8', 'h2', 'o2']];
    edges.forEach(function (e) {
      var a = nodes[e[1]], b = nodes[e[2]], w = r[e[0]];
      svg.appendChild(el('line', { x1: a[0], y1: a[1], x2: b[0], y2: b[1], 'stroke-width': 1 + 2.5 * Math.min(Math.abs(w), 2),
        stroke: w >= 0 ? '#0072B2' : '#D55E00', 'stroke-opacity': 0.75 }));
    });
    Object.keys(nodes).forEach(function (k) {
      var n = nodes[k];
      svg.appendChild(el('circle', { cx: n[0], cy: n[1], r: 22, 'class': 'node' }));
      svg.appendChild(el('text', { x: n[0], y: n[1] - 3, 'text-anchor': 'middle', 'class': 'name' }, k));
      svg.appendChild(el('text', { x: n[0], y: n[1] + 11, 'text-anchor': 'middle', 'class': 'value' }, short(n[3])));
    });
    // Each weight's label two fifths of the way along its edge, before the edges cross, over the lines.
    edges.forEach(function (e) {
      var a = nodes[e[1]], b = nodes[e[2]];
      var x = a[0] + (b[0] - a[0]) * 0.4, y = a[1] + (b[1] - a[1]) * 0.4 + (a[1] === b[1] ? -5 : 3);
      svg.appendChild(el('text', { x: x, y: y, 'class': 'weight', 'text-anchor': 'middle' }, e[0] + ' ' + short(r[e[0]])));
    });
    svg.appendChild(el('text', { x: 350, y: 25, 'text-anchor': 'end', 'class': 'target' }, 't1 ' + short(r.t1)));
    svg.appendChild(el('text', { x: 350, y: 205, 'text-anchor': 'end', 'class': 'target' }, 't2 ' + short(r.t2)));
  }

  var PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000'];
  function drawCurves(s, curves, eAtK) {
    var traces = curves.map(function (c, j) {
      return {
        type: 'scatter', mode: 'lines', name: 'η = ' + c.lr, x: c.losses.map(function (_, n) { return n + 1; }), y: c.losses,
        line: { color: PALETTE[j % PALETTE.length], width: c.lr === s.lr ? 3.5 : 1.5 },
      };
    });
    traces.push({ type: 'scatter', mode: 'markers', name: 'k = ' + s.k, x: [s.k], y: [eAtK], marker: { size: 10, color: '#1d1d1f' } });
    // As wide as its box (a phone's screen too), measured at each drawing; a resize draws again.
    var box = document.getElementById('playground-curves');
    var layout = {
      margin: { l: 50, r: 10, t: 10, b: 40 }, height: 320, width: Math.max(260, box.parentNode.clientWidth),
      xaxis: { title: { text: 'iteration' } }, yaxis: { title: { text: 'E_total' }, rangemode: 'tozero' },
      legend: { orientation: 'h', y: -0.25 },
    };
    Plotly.react(box, traces, layout, { displayModeBar: false });
  }

  // --- wiring --------------------------------------------------------------------------------------------------
  form.addEventListener('submit', function (e) { e.preventDefault(); });
  form.addEventListener('change', function (e) {
    if (e.target.name === 'preset') {
      var p = N.presets[e.target.value];
      attempt(function () { return { preset: e.target.value, i: p.i.slice(), t: p.t.slice(), w: p.w.slice(), lr: p.lr, k: state ? state.k : N.iterations }; }, false);
    } else if (e.target.name !== 'slider') attempt(fromForm, false);
  });
  form.elements.slider.addEventListener('input', function () {
    form.elements.k.value = form.elements.slider.value;
    attempt(fromForm, false);
  });
  window.addEventListener('resize', function () { if (state) show(state); });
  window.addEventListener('popstate', function () { attempt(function () { return fromQuery(location.search); }, true); });

  var defaults = function () { return fromQuery(''); };
  attempt(defaults, true);                                       // a good state first, to fall back on
  if (location.search) attempt(function () { return fromQuery(location.search); }, true);
})();
