// Package deploy holds the Kubernetes deployment of signaling-auth: the Helm chart in
// helm/signaling-auth and the tests that render it with the Helm v4 SDK, lint it, decode
// every object strictly into the Kubernetes API types and check what an operator relies
// on (probes, security context, secrets kept out of ConfigMaps, rollouts on config
// change, drain-aware grace periods). It is its own module so that the programs never
// carry Helm's dependencies; it has no Go code of its own besides the tests.
package deploy
