/** @module distro.test — tests for distro: os-release, lsb-release, redhat-release, SuSE-release, debian_version. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareVersions, detectDistro, parseKeyValue } from "./distro.ts";

describe("detectDistro", () => {
  it("takes Debian's point release from debian_version", () => {
    const d = detectDistro({
      "/etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
      "/etc/debian_version": "12.11\n",
    });
    assert.deepEqual(d, {
      distro: "debian",
      family: "debian",
      version: "12.11",
      major: 12,
      minor: 11,
      description: "Debian GNU/Linux 12 (bookworm)",
    });
  });

  it("ignores a debian_version that is not a number (Ubuntu's jessie/sid)", () => {
    const d = detectDistro({
      "/etc/os-release":
        'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 14.04.6 LTS"\nVERSION_ID="14.04"\n',
      "/etc/debian_version": "jessie/sid\n",
    });
    assert.deepEqual(
      [d.distro, d.version, d.major, d.minor, d.description],
      ["ubuntu", "14.04", 14, 4, "Ubuntu 14.04.6 LTS"],
    );
  });

  it("falls back to lsb-release, redhat-release, SuSE-release and debian_version", () => {
    assert.deepEqual(
      detectDistro({
        "/etc/lsb-release":
          'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=10.04\nDISTRIB_DESCRIPTION="Ubuntu 10.04.4 LTS"\n',
      }),
      {
        distro: "ubuntu",
        family: "debian",
        version: "10.04",
        major: 10,
        minor: 4,
        description: "Ubuntu 10.04.4 LTS",
      },
    );
    const c6 = detectDistro({ "/etc/redhat-release": "CentOS release 6.10 (Final)\n" });
    assert.deepEqual([c6.distro, c6.family, c6.major, c6.minor], ["centos", "rhel", 6, 10]);
    const rh = detectDistro({
      "/etc/redhat-release": "Red Hat Enterprise Linux Server release 7.9 (Maipo)\n",
    });
    assert.deepEqual([rh.distro, rh.version], ["rhel", "7.9"]);
    const sles = detectDistro({
      "/etc/SuSE-release": "SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4\n",
    });
    assert.deepEqual([sles.distro, sles.family, sles.version], ["sles", "suse", "11.4"]);
    const deb = detectDistro({ "/etc/debian_version": "7.11\n" });
    assert.deepEqual([deb.distro, deb.version, deb.description], ["debian", "7.11", "Debian 7.11"]);
    assert.equal(detectDistro({}).distro, "unknown");
  });

  it("takes CentOS 7's minor version from centos-release", () => {
    const d = detectDistro({
      "/etc/os-release":
        'ID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n',
      "/etc/centos-release": "CentOS Linux release 7.9.2009 (Core)\n",
    });
    assert.deepEqual([d.distro, d.family, d.version, d.major, d.minor], ["centos", "rhel", "7.9.2009", 7, 9]);
  });

  it("maps os-release IDs to libguestfs names and families", () => {
    const ol = detectDistro({ "/etc/os-release": 'ID="ol"\nVERSION_ID="8.9"\nID_LIKE="fedora"\n' });
    assert.deepEqual([ol.distro, ol.family], ["oraclelinux", "rhel"]);
    const rocky = detectDistro({ "/etc/os-release": 'ID="rocky"\nVERSION_ID="9.3"\n' });
    assert.deepEqual([rocky.distro, rocky.family, rocky.major, rocky.minor], ["rocky", "rhel", 9, 3]);
    const leap = detectDistro({ "/etc/os-release": 'ID="opensuse-leap"\nVERSION_ID="15.5"\n' });
    assert.deepEqual([leap.distro, leap.family], ["opensuse", "suse"]);
    const pop = detectDistro({ "/etc/os-release": 'ID=pop\nID_LIKE="ubuntu debian"\nVERSION_ID="22.04"\n' });
    assert.deepEqual([pop.distro, pop.family], ["pop", "debian"]);
  });
});

describe("parseKeyValue / compareVersions", () => {
  it("unquotes shell values", () => {
    assert.deepEqual(parseKeyValue(`A="x \\"y\\""\nB='z'\n# C=no\nD=plain\n`), {
      A: 'x "y"',
      B: "z",
      D: "plain",
    });
  });
  it("orders kernel versions numerically", () => {
    const v = ["6.1.0-9-amd64", "6.1.0-13-amd64", "5.10.0-28-amd64", "6.1.0-13-cloud-amd64"];
    v.sort(compareVersions);
    assert.deepEqual(v, ["5.10.0-28-amd64", "6.1.0-9-amd64", "6.1.0-13-amd64", "6.1.0-13-cloud-amd64"]);
  });
});
