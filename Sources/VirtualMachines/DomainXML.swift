import SystemPackage

/// libvirt domain XML for one guest, generated here (every value escaped) rather than templated.
public struct DomainDefinition: Sendable {
    /// The hypervisor domain type: `kvm` (hardware) or `qemu` (TCG, software emulation).
    public enum Accelerator: String, Sendable, Codable { case kvm, tcg }

    /// How the guest reaches the network.
    public enum Network: Sendable, Equatable {
        case none
        /// QEMU user-mode networking (slirp): 10.0.2.15/24, gateway 10.0.2.2, no host set-up.
        case user
        /// A tap on an existing host bridge (like the containers' bridge).
        case bridge(String)
    }

    public var name: String
    public var accelerator: Accelerator
    public var memoryMiB: Int
    public var vcpus: Int
    /// The kernel QEMU loads itself (direct kernel boot); nil boots from the disk through the
    /// firmware (SeaBIOS) and the disk's boot loader.
    public var kernel: FilePath?
    public var initrd: FilePath?
    public var commandLine: String
    public var disk: FilePath
    public var diskFormat: String = "qcow2"
    /// The unix socket of the virtio-serial port for the init's reports; nil: no port (the init
    /// then reports over the serial console).
    public var channelSocket: FilePath?
    public var consoleLog: FilePath
    public var network: Network = .none
    public var emulator: FilePath?
    /// A virtio-serial port for the QEMU guest agent (``GuestAgent/channelName``), whose host
    /// end libvirt creates and talks to itself.
    public var guestAgent = false
    /// The guest CPU under KVM: what the accelerator probe reached init with
    /// (``AcceleratorProbeResult/hostPassthrough`` or a named QEMU model). TCG emulates its own.
    public var cpuMode: String = AcceleratorProbeResult.hostPassthrough

    /// The machine type, disk bus and disk cache mode of every guest of ours: what a VM figure
    /// depends on besides the accelerator, recorded with each result.
    public static let machineType = "pc"
    public static let diskBus = "virtio"
    /// The overlay is thrown away after the run; flushes would only cost time.
    public static let diskCache = "unsafe"

    /// The virtio-serial port name our init looks for.
    public static let channelName = "org.intermodal.guest"

    public var xml: String {
        var x = "<domain type='\(accelerator == .kvm ? "kvm" : "qemu")'>\n"
        x += "  <name>\(xmlEscape(name))</name>\n"
        x += "  <memory unit='MiB'>\(memoryMiB)</memory>\n"
        x += "  <vcpu>\(vcpus)</vcpu>\n"
        x += "  <os>\n    <type arch='x86_64' machine='\(Self.machineType)'>hvm</type>\n"
        if let kernel {
            // Micro guests pass the decompressed ELF: QEMU enters it through PVH, no firmware
            // decompression pass.
            x += "    <kernel>\(xmlEscape(kernel.string))</kernel>\n"
            if let initrd { x += "    <initrd>\(xmlEscape(initrd.string))</initrd>\n" }
            x += "    <cmdline>\(xmlEscape(commandLine))</cmdline>\n"
        } else {
            x += "    <boot dev='hd'/>\n"
        }
        x += "  </os>\n"
        x += "  <features><acpi/></features>\n"
        if accelerator == .kvm {
            if cpuMode == AcceleratorProbeResult.hostPassthrough {
                x += "  <cpu mode='host-passthrough'/>\n"
            } else {
                x += "  <cpu mode='custom' match='exact'><model fallback='forbid'>\(xmlEscape(cpuMode))</model></cpu>\n"
            }
        }
        x += "  <clock offset='utc'/>\n"
        x += "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>destroy</on_reboot>\n  <on_crash>destroy</on_crash>\n"
        x += "  <devices>\n"
        if let emulator { x += "    <emulator>\(xmlEscape(emulator.string))</emulator>\n" }
        x += "    <disk type='file' device='disk'>\n"
        x += "      <driver name='qemu' type='\(xmlEscape(diskFormat))' cache='\(Self.diskCache)'/>\n"
        x += "      <source file='\(xmlEscape(disk.string))'/>\n"
        x += "      <target dev='vda' bus='\(Self.diskBus)'/>\n    </disk>\n"
        switch network {
        case .none: break
        case .user:
            x += "    <interface type='user'><model type='virtio'/></interface>\n"
        case .bridge(let bridge):
            x += "    <interface type='bridge'><source bridge='\(xmlEscape(bridge))'/><model type='virtio'/></interface>\n"
        }
        x += "    <serial type='file'><source path='\(xmlEscape(consoleLog.string))'/><target port='0'/></serial>\n"
        if let channelSocket {
            x += "    <channel type='unix'>\n"
            x += "      <source mode='bind' path='\(xmlEscape(channelSocket.string))'/>\n"
            x += "      <target type='virtio' name='\(Self.channelName)'/>\n    </channel>\n"
        }
        if guestAgent {
            x += "    <channel type='unix'>\n      <source mode='bind'/>\n"
            x += "      <target type='virtio' name='\(GuestAgent.channelName)'/>\n    </channel>\n"
        }
        // Nothing the guest does not use: no USB, no balloon, no graphics or video.
        x += "    <controller type='usb' model='none'/>\n"
        x += "    <memballoon model='none'/>\n"
        x += "  </devices>\n"
        // QEMU runs as root without relabelling: the cached kernel and base disk are shared
        // between guests, and chown-ing them per guest would race.
        x += "  <seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>\n"
        x += "</domain>\n"
        return x
    }
}

/// Escapes text for XML element content and single- or double-quoted attributes.
func xmlEscape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for ch in text.unicodeScalars {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "'": out += "&apos;"
        case "\"": out += "&quot;"
        default:
            // XML 1.0 cannot carry most control characters at all, escaped or not.
            if ch.value < 0x20 && ch != "\t" && ch != "\n" && ch != "\r" { out += "?" } else { out.unicodeScalars.append(ch) }
        }
    }
    return out
}
