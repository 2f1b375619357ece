package expr

// registerDeployment registers context.Deployment (IDeployment).
func registerDeployment() {
	t := defType("IDeployment", kDeployment)
	t.prop("GatewayId", "string", func(e *env, r Value) Value { return r.(*Deployment).GatewayID })
	t.prop("Region", "string", func(e *env, r Value) Value { return r.(*Deployment).Region })
	t.prop("ServiceName", "string", func(e *env, r Value) Value { return r.(*Deployment).ServiceName })
}
