// Importing a certificate: the picked file travels to the console as base64, the findings are
// shown as the console words them, and registering asks for the confirmation password.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import Certificates from "./Certificates.svelte";
import { i18n } from "../lib/i18n.svelte";

i18n.lang = "en";

afterEach(() => {
  cleanup();
  clearMocks();
});

const report = (acceptable: boolean) => ({
  format: "pem",
  certificates_in_file: 1,
  subject: "CN=hanako",
  issuer: "CN=Test CA",
  serial: "01",
  not_before: 0,
  not_after: Date.UTC(2027, 10, 23),
  emails: ["hanako@example.co.jp"],
  key: "RSA 2048",
  sha256: "ab",
  findings: acceptable ? [] : [{ code: "cert.address_mismatch", severity: "error", message: "The address is not in the certificate." }],
  chain_trusted: false,
  chain: "issuer not among the trusted roots (CN=Test CA)",
  acceptable,
  possession_proven: false,
});

describe("Certificates", () => {
  it("sends the picked file as base64 and registers it with the confirmation password", async () => {
    const calls: Array<[string, Record<string, unknown>]> = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args as Record<string, unknown>]);
      if (cmd === "certificates") return [];
      if (cmd === "certificate_report") return report(true);
      if (cmd === "import_certificate") return report(true);
      throw new Error(`unexpected ${cmd}`);
    });
    render(Certificates, { loginId: "hanakodt", address: "hanako@example.co.jp" });
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const input = document.querySelector("#cert-file") as HTMLInputElement;
    Object.defineProperty(input, "files", { value: [new File([pem], "hanako.pem")] });
    await fireEvent.change(input);
    await waitFor(() => expect(document.querySelector("#cert-report")?.getAttribute("data-acceptable")).toBe("true"));
    const asked = calls.find(([c]) => c === "certificate_report")![1];
    expect(asked).toEqual({ address: "hanako@example.co.jp", fileBase64: btoa(pem) });
    await fireEvent.input(screen.getByLabelText("Your own confirmation password"), { target: { value: "conf" } });
    await fireEvent.click(screen.getByRole("button", { name: "Register" }));
    await screen.findByText("Saved.");
    expect(calls.find(([c]) => c === "import_certificate")![1]).toEqual({
      loginId: "hanakodt",
      address: "hanako@example.co.jp",
      fileBase64: btoa(pem),
      confirmation: "conf",
    });
  });

  it("explains an unfit certificate and offers no way to register it", async () => {
    mockIPC((cmd) => (cmd === "certificates" ? [] : report(false)));
    render(Certificates, { loginId: "hanakodt", address: "hanako@example.co.jp" });
    const input = document.querySelector("#cert-file") as HTMLInputElement;
    Object.defineProperty(input, "files", { value: [new File(["x"], "other.pem")] });
    await fireEvent.change(input);
    await screen.findByText("The address is not in the certificate.");
    expect(screen.getByText("This certificate cannot be registered.")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Register" })).toBeNull();
  });
});
