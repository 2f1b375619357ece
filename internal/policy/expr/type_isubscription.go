package expr

// registerSubscription registers context.Subscription (ISubscription).
func registerSubscription() {
	t := defType("ISubscription", kSubscription)
	t.prop("Id", "string", func(e *env, r Value) Value { return r.(*Subscription).ID })
	t.prop("Name", "string", func(e *env, r Value) Value { return r.(*Subscription).Name })
	t.prop("Key", "string", func(e *env, r Value) Value { return r.(*Subscription).Key })
	t.prop("PrimaryKey", "string", func(e *env, r Value) Value { return r.(*Subscription).PrimaryKey })
	t.prop("SecondaryKey", "string", func(e *env, r Value) Value { return r.(*Subscription).SecondaryKey })
	t.prop("CreatedDate", "DateTime", func(e *env, r Value) Value { return utc(r.(*Subscription).CreatedDate) })
	t.prop("StartDate", "DateTime", func(e *env, r Value) Value { return timeOrNull(r.(*Subscription).StartDate) })
	t.prop("EndDate", "DateTime", func(e *env, r Value) Value { return timeOrNull(r.(*Subscription).EndDate) })
}
