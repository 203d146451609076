package server

import (
	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracing starts one server span per request (continuing a caller's W3C
// traceparent), named after the route pattern. Attributes are the route,
// method, status, grant type, client id and OAuth error code: never a
// token, secret, password or header value.
func tracing(tp trace.TracerProvider) gin.HandlerFunc {
	tracer := tp.Tracer("github.com/tollgate/tollgate/server")
	prop := propagation.TraceContext{}
	return func(c *gin.Context) {
		ctx := prop.Extract(c.Request.Context(), propagation.HeaderCarrier(c.Request.Header))
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		ctx, span := tracer.Start(ctx, c.Request.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", c.Request.Method), attribute.String("http.route", route)))
		defer span.End()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		st := c.Writer.Status()
		span.SetAttributes(attribute.Int("http.response.status_code", st))
		for _, k := range [...]struct{ ctx, attr string }{
			{ctxGrantType, "oauth.grant_type"}, {ctxClientID, "oauth.client_id"}, {ctxErrorCode, "oauth.error"}, {ctxRequestID, "tollgate.request_id"},
		} {
			if v := c.GetString(k.ctx); v != "" {
				span.SetAttributes(attribute.String(k.attr, v))
			}
		}
		if st >= 500 {
			span.SetStatus(codes.Error, "server error")
		}
	}
}
