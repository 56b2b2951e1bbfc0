// The bid form of a participant: one row per bid (unit or load, hour, side, price, quantity)
// for the round the participant's view is about, and the checks the server makes, run in the
// browser first (price grid and limits, quantity grid, totals within availability). The
// server's own per-bid refusals are shown in the same place, next to the row they name.

import { UNITS, el, num } from './common.js';

const EPS = 1e-6;

function onGrid(value, tick) {
  const scaled = value / tick;
  return Number.isFinite(value) && Math.abs(scaled - Math.round(scaled)) <= EPS;
}

const floorTo = (value, tick) => Math.floor(value / tick + 1e-9) * tick;
const roundTo = (value, tick) => Math.round(value / tick) * tick;
const fix = (value, tick) => Number(roundTo(value, tick).toFixed(Math.max(0, Math.ceil(-Math.log10(tick)))));

export class BidForm {
  /** `table`: the form's table; `onChange`: called when a row is added. */
  constructor(table) {
    this.table = table;
    this.rows = [];
    this.roundId = null;
    this.view = null;
    this.serial = 0;
    this.revision = 0;
    this.dirty = false;
    table.addEventListener('input', () => { this.dirty = true; });
  }

  /** Build the rows for the view's round (kept as typed while the round stays the same). */
  build(view) {
    const round = view.round;
    this.view = view;
    this.roundId = round ? round.round_id : null;
    this.kind = round ? round.kind : null;
    this.rows = [];
    this.revision = 0;
    this.dirty = false;
    const head = this.table.tHead.rows[0];
    const tbody = this.table.tBodies[0];
    tbody.replaceChildren();
    if (!round || !round.takes_bids) {
      head.replaceChildren();
      return;
    }
    const units = UNITS[round.kind];
    const cols = ['Unit or load', ...(round.kind === 'energy' ? ['Hour'] : []), 'Side',
      `Price (${units.price})`, `Quantity (${units.quantity})`, 'Up to', 'Problems', 'Steps'];
    if (round.kind === 'green' && round.mode === 'listing') cols.splice(2, 0, 'Seller (buys)');
    head.replaceChildren(...cols.map((c) => el('th', { scope: 'col', text: c })));
    for (const spec of this.specs(view)) this.addRow(spec);
  }

  /** The rows a view calls for: {unit, hour, sides, price, quantity, limit, label}. */
  specs(view) {
    const round = view.round;
    const tick = view.limits.quantity_tick_mw;
    const ptick = view.limits.price_tick_yuan;
    const out = [];
    if (round.kind === 'capacity') {
      for (const u of view.units) {
        if (u.accredited_mw > 0) {
          out.push({ unit: u.unit, sides: ['sell'], price: '', quantity: fix(floorTo(u.accredited_mw, tick), tick),
            limit: u.accredited_mw, what: 'accredited capacity' });
        }
      }
    } else if (round.kind === 'energy') {
      view.hours.forEach((hour, k) => {
        for (const u of view.units) {
          const mw = floorTo(u.available_mw[k] || 0, tick);
          if (mw <= 0) continue;
          const storage = u.technology === 'storage';
          const cost = u.marginal_cost_yuan_per_mwh;
          out.push({ unit: u.unit, hour, sides: storage ? ['sell', 'buy'] : ['sell'],
            price: cost === null || storage ? '' : fix(cost, ptick), quantity: fix(mw, tick), limit: mw, what: 'available capacity' });
        }
        for (const ld of view.loads) {
          const mw = floorTo(ld.demand_mw[k] || 0, tick);
          if (mw > 0) out.push({ unit: ld.load, hour, sides: ['buy'], price: '', quantity: fix(mw, tick), limit: mw, what: 'demand' });
        }
      });
    } else if (round.kind === 'green') {
      for (const u of view.units) {
        if (u.sellable_certificates_mwh > 0) {
          out.push({ unit: u.unit, sides: ['sell'], price: '', quantity: u.sellable_certificates_mwh,
            limit: u.sellable_certificates_mwh, what: 'never-sold certificates' });
        }
      }
      if (view.loads.length) out.push({ unit: null, sides: ['buy'], price: '', quantity: '', limit: null, what: '' });
    }
    return out;
  }

  addRow(spec, after = null) {
    this.serial += 1;
    const id = `bid-${this.serial}`;
    const name = spec.unit === null ? 'certificates' : spec.unit;
    const where = spec.hour === undefined || spec.hour === null ? '' : `, hour ${spec.hour}`;
    const label = (what, field) => el('label', { for: `${id}-${field}`, class: 'sr-only', text: `${what} of ${name}${where}` });
    const price = el('input', { id: `${id}-price`, value: spec.price, inputmode: 'decimal', size: 9, autocomplete: 'off' });
    const quantity = el('input', { id: `${id}-quantity`, value: spec.quantity, inputmode: 'decimal', size: 9, autocomplete: 'off' });
    const side = spec.sides.length > 1
      ? el('select', { id: `${id}-side` }, spec.sides.map((s) => el('option', { value: s, text: s })))
      : null;
    const problem = el('td', { class: 'problem' });
    const step = el('button', { type: 'button', class: 'small', text: '+ step',
      'aria-label': `Add another price step for ${name}${where}` });
    const tools = [step];
    const remove = spec.extra ? el('button', { type: 'button', class: 'small', text: 'Remove',
      'aria-label': `Remove this price step of ${name}${where}` }) : null;
    if (remove) tools.push(remove);
    const down = this.kind === 'energy' && !spec.extra ? el('button', { type: 'button', class: 'small', text: '↓ later hours',
      'aria-label': `Copy to later hours: ${name}${where}` }) : null;
    if (down) tools.push(down);
    const counterparty = this.view.round.kind === 'green' && this.view.round.mode === 'listing'
      ? el('input', { id: `${id}-seller`, size: 10, autocomplete: 'off' }) : null;
    const units = UNITS[this.kind];
    const cells = [
      el('th', { scope: 'row', text: name }),
      ...(this.kind === 'energy' ? [el('td', { 'data-label': 'Hour', text: spec.hour })] : []),
      ...(counterparty ? [el('td', { 'data-label': 'Seller' }, spec.sides[0] === 'buy'
        ? [el('label', { for: `${id}-seller`, class: 'sr-only', text: `Seller whose listing ${name} takes` }), counterparty] : '–')] : []),
      el('td', { 'data-label': 'Side' }, side ? [el('label', { for: `${id}-side`, class: 'sr-only', text: `Side of ${name}${where}` }), side] : spec.sides[0]),
      el('td', { 'data-label': `Price ${units.price}` }, label('Price', 'price'), price),
      el('td', { 'data-label': `Quantity ${units.quantity}` }, label('Quantity', 'quantity'), quantity),
      el('td', { class: 'num', 'data-label': 'Up to', text: spec.limit === null ? '–' : num(spec.limit, 3) }),
      problem,
      el('td', { class: 'tools' }, tools),
    ];
    const tr = el('tr', { class: spec.extra ? 'extra' : '' }, cells);
    const row = { spec, tr, price, quantity, side, counterparty, problem };
    step.addEventListener('click', () => {
      const added = this.addStep(row);
      added.price.focus();
    });
    if (remove) {
      remove.addEventListener('click', () => {
        this.removeRow(row);
        this.dirty = true;
      });
    }
    if (down) down.addEventListener('click', () => this.copyDown(row));
    if (after) {
      after.tr.after(tr);
      this.rows.splice(this.rows.indexOf(after) + 1, 0, row);
    } else {
      this.table.tBodies[0].append(tr);
      this.rows.push(row);
    }
    return row;
  }

  /** Add an empty price step after `row` (after the last step of its unit and hour). */
  addStep(row, price = '', quantity = '') {
    const same = this.rows.filter((r) => r.spec.unit === row.spec.unit && r.spec.hour === row.spec.hour);
    const last = same[same.length - 1] || row;
    this.dirty = true;
    return this.addRow({ ...row.spec, price, quantity, extra: true }, last);
  }

  removeRow(row) {
    row.tr.remove();
    this.rows.splice(this.rows.indexOf(row), 1);
  }

  /** The first row of each unit (or load) and hour, with its extra steps. */
  groups() {
    const out = new Map();
    for (const r of this.rows) {
      const key = `${r.spec.unit}|${r.spec.hour}`;
      if (!out.has(key)) out.set(key, []);
      out.get(key).push(r);
    }
    return out;
  }

  /** Drop the extra steps of a unit (all hours), keeping each hour's first row. */
  dropSteps(unit) {
    for (const r of [...this.rows]) if (r.spec.unit === unit && r.spec.extra) this.removeRow(r);
  }

  /** Put the form back to the stored batch `bids` (rows without a stored bid are emptied). */
  restore(bids, revision) {
    for (const r of [...this.rows]) if (r.spec.extra) this.removeRow(r);
    for (const r of this.rows) {
      r.price.value = '';
      if (r.spec.limit !== null) r.quantity.value = r.spec.quantity;
    }
    const used = new Set();
    const stray = [];
    for (const b of bids) {
      const unit = b.unit === undefined ? null : b.unit;
      const hour = this.kind === 'energy' ? b.hour : undefined;
      const matches = this.rows.filter((r) => r.spec.unit === unit && (this.kind !== 'energy' || r.spec.hour === hour)
        && r.spec.sides.includes(b.side));
      if (!matches.length) {
        stray.push(b);
        continue;
      }
      let row = matches.find((r) => !used.has(r));
      if (!row) row = this.addStep(matches[matches.length - 1]);
      used.add(row);
      row.price.value = String(b.price);
      row.quantity.value = String(b.quantity);
      if (row.side) row.side.value = b.side;
      if (row.counterparty && b.counterparty) row.counterparty.value = b.counterparty;
    }
    this.revision = revision;
    this.dirty = false;
    return stray;
  }

  /** Copy `row`'s price and quantity to the first row of its unit in each later hour. */
  copyDown(row) {
    const tick = this.view.limits.quantity_tick_mw;
    const want = Number(row.quantity.value);
    let n = 0;
    for (const [, rows] of this.groups()) {
      const first = rows[0];
      if (first.spec.unit !== row.spec.unit || !(first.spec.hour > row.spec.hour)) continue;
      first.price.value = row.price.value;
      if (Number.isFinite(want) && row.quantity.value.trim() !== '') {
        first.quantity.value = String(fix(Math.min(want, first.spec.limit), tick));
      }
      n += 1;
    }
    this.dirty = true;
    return n;
  }

  /** Units and loads of the form (energy), in order. */
  names() {
    return [...new Set(this.rows.map((r) => r.spec.unit))];
  }

  /**
   * Set `unit`'s bid in every hour: one step at `price` for `quantity` MW (blank: all
   * available), or the `steps` [[mw, price], ...] of a price-quantity curve, each capped by
   * what is left of the hour's availability. Returns the number of hours set.
   */
  fillAll(unit, steps) {
    const tick = this.view.limits.quantity_tick_mw;
    this.dropSteps(unit);
    let hours = 0;
    for (const [, rows] of this.groups()) {
      const first = rows[0];
      if (first.spec.unit !== unit) continue;
      let left = first.spec.limit;
      first.price.value = '';
      steps.forEach(([mw, price], k) => {
        const q = fix(floorTo(Math.min(mw === null ? left : mw, left), tick), tick);
        if (!(q > 0)) return;
        const target = k === 0 ? first : this.addStep(first);
        target.price.value = String(price);
        target.quantity.value = String(q);
        left -= q;
      });
      hours += 1;
    }
    this.dirty = true;
    return hours;
  }

  setEnabled(on) {
    for (const r of this.rows) {
      for (const input of [r.price, r.quantity, r.side, r.counterparty]) if (input) input.disabled = !on;
    }
    for (const b of this.table.querySelectorAll('button')) b.disabled = !on;
  }

  clearProblems() {
    for (const r of this.rows) {
      r.problem.replaceChildren();
      r.tr.classList.remove('bad');
    }
  }

  /** Show `reason` next to row `row` (an alert, so a screen reader says it). */
  showProblem(row, reason) {
    row.tr.classList.add('bad');
    row.problem.append(el('span', { role: 'alert', text: reason }));
  }

  /**
   * The batch of the filled rows (a row with an empty price is left out) and the problems
   * the browser finds, as {bids, sent: [row], problems: [[row, reason]]}.
   */
  collect() {
    const view = this.view;
    const limits = view.limits;
    const kind = this.kind;
    const round = view.round;
    const ptick = limits.price_tick_yuan;
    const qtick = kind === 'green' && round.product === 'unbundled' ? 1 : limits.quantity_tick_mw;
    const [low, high, unit] = {
      energy: [limits.energy_price_floor_yuan_per_mwh, limits.energy_price_cap_yuan_per_mwh, 'yuan/MWh'],
      capacity: [0, limits.capacity_offer_cap_yuan_per_kw_yr, 'yuan/kW·yr'],
      // green prices have no cap unless the rules set one (the 2025 range is a reference only)
      green: round.product === 'unbundled'
        ? [0, limits.green_certificate_price_cap_yuan ?? Infinity, 'yuan']
        : [0, limits.green_premium_cap_yuan_per_mwh ?? Infinity, 'yuan/MWh'],
    }[kind];
    const bids = [];
    const sent = [];
    const problems = [];
    const used = new Map();
    for (const row of this.rows) {
      const priceText = row.price.value.trim();
      if (priceText === '') continue;
      const why = [];
      const price = Number(priceText.replace(/,/g, ''));
      const quantityText = row.quantity.value.trim();
      const quantity = Number(quantityText.replace(/,/g, ''));
      const side = row.side ? row.side.value : row.spec.sides[0];
      if (!Number.isFinite(price)) why.push(`price “${priceText}” is not a number`);
      else if (!onGrid(price, ptick) || price < low - EPS || price > high + EPS) {
        why.push(kind === 'capacity' && price > high
          ? `offer price ${num(price)} ${unit} is above the offer cap ${num(high)} ${unit}`
          : `price ${num(price, 6)} ${unit} must be on the ${ptick} yuan grid within [${num(low)}, ${num(high)}]`);
      }
      if (quantityText === '') why.push('quantity is missing');
      else if (!Number.isFinite(quantity) || quantity <= 0 || !onGrid(quantity, qtick)) {
        why.push(`quantity ${quantityText} must be > 0 on the ${qtick} grid`);
      } else if (row.spec.limit !== null) {
        const key = `${row.spec.unit}|${row.spec.hour}|${side}`;
        const total = (used.get(key) || 0) + quantity;
        used.set(key, total);
        if (total > row.spec.limit + qtick / 2) {
          why.push(`${side} quantity of ${row.spec.unit} totals ${num(total, 3)} in this batch, above its ${row.spec.what} ${num(row.spec.limit, 3)}`);
        }
      }
      const bid = { price, quantity, side, unit: row.spec.unit, kind };
      if (kind === 'energy') bid.hour = row.spec.hour;
      if (row.counterparty && side === 'buy') {
        bid.counterparty = row.counterparty.value.trim() || null;
        if (!bid.counterparty) why.push('name the seller whose listing you take');
      }
      for (const w of why) problems.push([row, w]);
      bids.push(bid);
      sent.push(row);
    }
    if (kind === 'green' && new Set(bids.map((b) => b.side)).size > 1) {
      sent.forEach((row, i) => {
        if (bids[i].side === 'buy') problems.push([row, 'this batch also sells; take one side in a green round']);
      });
    }
    return { bids, sent, problems };
  }
}
