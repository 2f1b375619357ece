package expr

// registerUser registers context.User (IUser) and the groups of users and
// products (IGroup).
func registerUser() {
	t := defType("IUser", kUser)
	g := defType("IGroup", kUserGroup)
	t.prop("Id", "string", func(e *env, r Value) Value { return r.(*User).ID })
	t.prop("Email", "string", func(e *env, r Value) Value { return r.(*User).Email })
	t.prop("FirstName", "string", func(e *env, r Value) Value { return r.(*User).FirstName })
	t.prop("LastName", "string", func(e *env, r Value) Value { return r.(*User).LastName })
	t.prop("Note", "string", func(e *env, r Value) Value { return r.(*User).Note })
	t.prop("RegistrationDate", "DateTime", func(e *env, r Value) Value { return utc(r.(*User).RegistrationDate) })
	t.prop("Groups", "IGroup[]", func(e *env, r Value) Value { return groupsList(r.(*User).Groups) })
	g.prop("Id", "string", func(e *env, r Value) Value { return r.(UserGroup).ID })
	g.prop("Name", "string", func(e *env, r Value) Value { return r.(UserGroup).Name })
}
