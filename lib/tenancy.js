'use strict';

// Which tenant owns which engine account, under which id. Each tenant has its
// own id namespace: two tenants may both call an account 'main'. The engine
// knows a router-started account by a key no tenant can choose for another
// (the tenant, URI-encoded so it holds no '/', then '/' and the id), and a
// tenant only ever sees its own ids. An account the app added to the engine
// itself has no owner (admins still see it) until assign() gives it one, under
// its engine id.

const keyOf = (tenant, id) => `${encodeURIComponent(tenant)}/${id}`;

class Tenancy {
  constructor(engine) {
    this.engine = engine;
    this.byKey = new Map(); // engine id -> { tenant, id, connections, pending, assigned }
    this.byTenant = new Map(); // tenant -> Map(tenant's id -> engine id)
  }

  _ids(tenant) {
    let ids = this.byTenant.get(tenant);
    if (!ids) {
      ids = new Map();
      this.byTenant.set(tenant, ids);
    }
    return ids;
  }

  _set(key, entry) {
    this.byKey.set(key, entry);
    this._ids(entry.tenant).set(entry.id, key);
  }

  _delete(key) {
    const entry = this.byKey.get(key);
    if (!entry) return;
    this.byKey.delete(key);
    const ids = this.byTenant.get(entry.tenant);
    if (ids && ids.get(entry.id) === key) ids.delete(entry.id);
    if (ids && ids.size === 0) this.byTenant.delete(entry.tenant);
  }

  // An account removed behind the router's back (engine.removeAccount) no longer counts.
  _live(key) {
    const entry = this.byKey.get(key);
    if (!entry) return null;
    if (entry.pending || entry.assigned || this.engine.status(key) !== null) return entry;
    this._delete(key);
    return null;
  }

  /** The engine id of a tenant's account, or undefined. */
  find(tenant, id) {
    const key = this.byTenant.get(tenant)?.get(id);
    return key !== undefined && this._live(key) ? key : undefined;
  }

  /** { tenant, id } for an engine id, or undefined for an account without owner. */
  entry(key) {
    return this.byKey.get(key);
  }

  /** The accounts and connections a tenant holds, counting starts still in progress. */
  usage(tenant) {
    let accounts = 0;
    let connections = 0;
    for (const key of [...(this.byTenant.get(tenant)?.values() || [])]) {
      const entry = this._live(key);
      if (!entry) continue;
      accounts += 1;
      connections += entry.connections;
    }
    return { accounts, connections };
  }

  /** Claims a tenant's id; returns the engine id, or null if the tenant already has that id. */
  reserve(tenant, id, connections) {
    if (this.find(tenant, id) !== undefined) return null;
    const key = keyOf(tenant, id);
    // Only an app-added account assign()ed under exactly this key can hold it: keep its owner.
    if (this._live(key)) return null;
    this._set(key, { tenant, id, connections, pending: true });
    return key;
  }

  settle(key, added) {
    const entry = this.byKey.get(key);
    if (!entry) return;
    if (added) entry.pending = false;
    else this._delete(key);
  }

  release(key) {
    this._delete(key);
  }

  /** Gives an app-added account an owner; the tenant knows it by its engine id. */
  assign(key, tenant) {
    this._delete(key);
    this._set(key, { tenant, id: key, connections: 0, pending: false, assigned: true });
  }
}

module.exports = { Tenancy };
