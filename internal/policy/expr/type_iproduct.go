package expr

// registerProduct registers context.Product (IProduct).
func registerProduct() {
	t := defType("IProduct", kProduct)
	t.prop("Id", "string", func(e *env, r Value) Value { return r.(*Product).ID })
	t.prop("Name", "string", func(e *env, r Value) Value { return r.(*Product).Name })
	t.prop("State", "string", func(e *env, r Value) Value { return r.(*Product).State })
	t.prop("ApprovalRequired", "bool", func(e *env, r Value) Value { return r.(*Product).ApprovalRequired })
	t.prop("SubscriptionRequired", "bool", func(e *env, r Value) Value { return r.(*Product).SubscriptionRequired })
	t.prop("SubscriptionsLimit", "int", func(e *env, r Value) Value {
		if l := r.(*Product).SubscriptionsLimit; l != nil {
			return int32(*l)
		}
		return nil
	})
	t.prop("Groups", "IGroup[]", func(e *env, r Value) Value { return groupsList(r.(*Product).Groups) })
}
