package expr

// registerAPI registers context.Api (IApi).
func registerAPI() {
	t := defType("IApi", kAPI)
	t.prop("Id", "string", func(e *env, r Value) Value { return r.(*API).ID })
	t.prop("Name", "string", func(e *env, r Value) Value { return r.(*API).Name })
	t.prop("Path", "string", func(e *env, r Value) Value { return r.(*API).Path })
	t.prop("Version", "string", func(e *env, r Value) Value { return r.(*API).Version })
	t.prop("Revision", "string", func(e *env, r Value) Value { return r.(*API).Revision })
	t.prop("IsCurrentRevision", "bool", func(e *env, r Value) Value { return r.(*API).IsCurrentRevision })
	t.prop("ServiceUrl", "IUrl", func(e *env, r Value) Value { return nz(r.(*API).ServiceURL) })
	t.prop("Protocols", "string[]", func(e *env, r Value) Value { return normalize(r.(*API).Protocols) })
	t.prop("SubscriptionKeyParameterNames", "?", func(e *env, r Value) Value {
		a := r.(*API)
		d := newDict()
		d.Anon = true
		d.Set("Header", a.SubscriptionKeyHeader)
		d.Set("Query", a.SubscriptionKeyQuery)
		return d
	})
}
