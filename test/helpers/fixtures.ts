import * as fs from "fs";
import * as path from "path";

const PKI = path.join(__dirname, "..", "fixtures", "pki");

/** Test-only PEM fixtures (see test/fixtures/pki/README.md). */
export const pem = {
  ca: fs.readFileSync(path.join(PKI, "ca.crt"), "utf8"),
  caKey: fs.readFileSync(path.join(PKI, "ca.key"), "utf8"),
  clientCert: fs.readFileSync(path.join(PKI, "client.crt"), "utf8"),
  clientKey: fs.readFileSync(path.join(PKI, "client.key"), "utf8"),
  otherCert: fs.readFileSync(path.join(PKI, "other.crt"), "utf8"),
  otherKey: fs.readFileSync(path.join(PKI, "other.key"), "utf8"),
};

/** A password that must never show up anywhere but the files meant to hold it. */
export const CANARY_PASSWORD = "canary-Pa55w0rd-7f3e91";
