// Package schema is hactl's HCL cluster language: it parses *.hcl files with
// variables, locals and functions, decodes them into the typed Cluster model
// (keeping every source range), validates them against rules with stable IDs,
// and renders Hadoop's core-site.xml and hdfs-site.xml from them (and back).
package schema
