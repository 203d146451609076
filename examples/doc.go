// Package examples holds the test that runs the non-Go resource-server
// recipes (node-express, python-flask) against a real `tollgate serve`.
// Each recipe is a folder of its own with a README; todo-api is the Go one.
package examples
