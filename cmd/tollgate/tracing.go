package main

import (
	"context"
	"fmt"
	"io"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// newTracer builds the tracer provider TOLLGATE_TRACING asks for (nil when
// off) and the function that flushes and stops it.
func newTracer(ctx context.Context, mode string, stderr io.Writer) (trace.TracerProvider, func(context.Context) error, error) {
	var exp sdktrace.SpanExporter
	var err error
	switch mode {
	case "":
		return nil, func(context.Context) error { return nil }, nil
	case "otlp":
		exp, err = otlptracehttp.New(ctx)
	case "stdout":
		exp, err = stdouttrace.New(stdouttrace.WithWriter(stderr))
	default:
		err = fmt.Errorf("unknown tracing mode %q", mode)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("starting tracing (TOLLGATE_TRACING): %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "tollgate"), attribute.String("service.version", buildVersion()))),
	)
	return tp, tp.Shutdown, nil
}
