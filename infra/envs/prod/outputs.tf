output "lakeml" {
  description = "Every name and ARN lakeml needs on AWS (see docs/infra.md for the LAKEML_* variable of each)."
  value       = module.lakeml
}
