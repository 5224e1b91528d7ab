//! The parsers on CUPS's real outputs, the queue's name, and how failures are named.

use super::*;

/// Outputs of the CUPS 2.4.2 clients (Debian 12), captured with `LANG=C`, byte for byte: against
/// queues made for the purpose (`borne-test-…`, one on an `ippeveprinter` on loopback), as root, as
/// `nobody`, and with `CUPS_SERVER` pointing at no scheduler.
mod captured {
    /// `lpinfo -l -v --include-schemes dnssd,usb,ipp,ipps` on a machine with no printer and no
    /// Avahi: the ipp backends' bare names only.
    pub const LPINFO_NOTHING: &str = "Device: uri = ipp\n        class = network\n        info = Internet Printing Protocol (ipp)\n        make-and-model = Unknown\n        device-id = \n        location = \nDevice: uri = ipps\n        class = network\n        info = Internet Printing Protocol (ipps)\n        make-and-model = Unknown\n        device-id = \n        location = \n";
    /// `lpinfo --device-id 'MFG:Generic;MDL:CUPS-PDF Printer;' -m`.
    pub const LPINFO_MODELS: &str = "lsb/usr/cups-pdf/CUPS-PDF_noopt.ppd Generic CUPS-PDF Printer (no options)\nlsb/usr/cups-pdf/CUPS-PDF_opt.ppd Generic CUPS-PDF Printer (w/ options)\neverywhere IPP Everywhere\n";
    /// `lpinfo --device-id 'MFG:Nobody;MDL:Nothing 3000;' -m`: no match, so every driver (the
    /// first lines of 43).
    pub const LPINFO_EVERY_DRIVER: &str = "drv:///sample.drv/dymo.ppd DYMO Label Printer\ndrv:///sample.drv/epson9.ppd Epson 9-Pin Series\ndrv:///sample.drv/epson24.ppd Epson 24-Pin Series\nlsb/usr/cupsfilters/Fuji_Xerox-DocuPrint_CM305_df-PDF.ppd Fuji Xerox DocuPrint CM305 df PDF\ndrv:///generic-brf.drv/gen-brf.ppd Generic Braille embosser, 1.0\nlsb/usr/cups-pdf/CUPS-PDF_noopt.ppd Generic CUPS-PDF Printer (no options)\nlsb/usr/cups-pdf/CUPS-PDF_opt.ppd Generic CUPS-PDF Printer (w/ options)\ndrv:///cupsfilters.drv/pwgrast.ppd Generic IPP Everywhere Printer\ndrv:///sample.drv/generpcl.ppd Generic PCL Laser Printer\nlsb/usr/cupsfilters/Generic-PDF_Printer-PDF.ppd Generic PDF Printer\n";
    /// `lpstat -l -p` of an IPP Everywhere queue on ippeveprinter, idle.
    pub const IDLE: &str = "printer borne-test-t3 is idle.  enabled since Mon Dec  7 14:03:17 2026\n\tForm mounted:\n\tContent types: any\n\tPrinter types: unknown\n\tDescription: borne-test-t3\n\tAlerts: none\n\tLocation: \n\tConnection: direct\n\tInterface: /etc/cups/ppd/borne-test-t3.ppd\n\tOn fault: no alert\n\tAfter fault: continue\n\tUsers allowed:\n\t\t(all)\n\tForms allowed:\n\t\t(none)\n\tBanner required\n\tCharset sets:\n\t\t(none)\n\tDefault pitch:\n\tDefault page size:\n\tDefault port settings:\n";
    /// The same queue printing, ippeveprinter gone under it.
    pub const PRINTING: &str = "printer borne-test-t3 now printing borne-test-t3-484.  enabled since Mon Dec  7 14:03:21 2026\n\tPrinting.\n\tForm mounted:\n\tContent types: any\n\tPrinter types: unknown\n\tDescription: borne-test-t3\n\tAlerts: cups-waiting-for-job-completed\n\tLocation: \n";
    /// `lpstat -l -p` of a queue made with `lpadmin -m everywhere` whose printer did not answer:
    /// raw, no `Interface:` line.
    pub const RAW: &str = "printer borne-test-try is idle.  enabled since Mon Dec  7 14:02:28 2026\n\tForm mounted:\n\tContent types: any\n\tPrinter types: unknown\n\tDescription: borne-test-try\n\tAlerts: none\n\tLocation: \n\tConnection: direct\n\tOn fault: no alert\n\tAfter fault: continue\n";
    /// After `cupsdisable`.
    pub const DISABLED: &str =
        "printer borne-test-try disabled since Mon Dec  7 14:02:32 2026 -\n\treason unknown\n\tForm mounted:\n\tContent types: any\n";
    /// After `cupsreject` (the queue was also disabled).
    pub const REJECTING: &str =
        "printer borne-test-r disabled since Mon Dec  7 14:20:44 2026 -\n\tRejecting Jobs\n\tForm mounted:\n";
    /// `lpstat -a`, accepting and not.
    pub const ACCEPTING: &str = "borne-test-try accepting requests since Mon Dec  7 14:02:28 2026\n";
    /// `lpstat -a` after `cupsreject`.
    pub const NOT_ACCEPTING: &str =
        "borne-test-r not accepting requests since Mon Dec  7 14:20:44 2026 -\n\tRejecting Jobs\n";
    /// `lpoptions -p` of a raw queue whose description holds quotes and a backslash.
    pub const LPOPTIONS_RAW: &str = "copies=1 device-uri=ipp://127.0.0.1:1/ipp/print finishings=3 job-cancel-after=10800 job-hold-until=no-hold job-priority=50 job-sheets=none,none marker-change-time=0 number-up=1 print-color-mode=monochrome printer-info='L'imprimante \"du\" hall\\x' printer-is-accepting-jobs=false printer-is-shared=true printer-is-temporary=false printer-location='Salle 2' printer-make-and-model='Local Raw Printer' printer-state=5 printer-state-change-time=1796652466 printer-state-reasons=none printer-type=524292 printer-uri-supported=ipp://localhost/printers/borne-test-q\n";
    /// `lpstat -v` and `lpstat -d`.
    pub const LPSTAT_V: &str =
        "device for borne-e2e: cups-pdf:/\ndevice for borne-test-t3: ipp://127.0.0.1:49219/ipp/print\n";
    /// `lpstat -d` with a default.
    pub const LPSTAT_D: &str = "system default destination: borne-test-t3\n";
    /// `lpstat -d` with none.
    pub const LPSTAT_NO_D: &str = "no system default destination\n";
}

/// `lpinfo -l -v` on a network with a driverless printer announced three ways and a USB printer
/// that needs a driver, in the format of CUPS 2.4's `lpinfo` and of the `dnssd` and `usb` backends
/// (not captured: this machine has neither Avahi nor printers).
const LPINFO_PRINTERS: &str = "\
Device: uri = usb://HP/LaserJet%201020?serial=FN0ABC1
        class = direct
        info = HP LaserJet 1020
        make-and-model = HP LaserJet 1020
        device-id = MFG:Hewlett-Packard;MDL:HP LaserJet 1020;CMD:ACL;CLS:PRINTER;DES:HP LaserJet 1020;
        location = 
Device: uri = dnssd://HP%20LaserJet%20MFP%20M28w%20(5E1F2A)._pdl-datastream._tcp.local/
        class = network
        info = HP LaserJet MFP M28w (5E1F2A)
        make-and-model = HP LaserJet MFP M28w
        device-id = 
        location = Accueil
Device: uri = dnssd://HP%20LaserJet%20MFP%20M28w%20(5E1F2A)._ipps._tcp.local/?uuid=564e4333-4230-3042-3532-a0481cdf0000
        class = network
        info = HP LaserJet MFP M28w (5E1F2A)
        make-and-model = HP LaserJet MFP M28w
        device-id = MFG:HP;MDL:LaserJet MFP M28w;CMD:PCLm,PWGRaster,URF,PCL3GUI;
        location = Accueil
Device: uri = dnssd://HP%20LaserJet%20MFP%20M28w%20(5E1F2A)._ipp._tcp.local/?uuid=564e4333-4230-3042-3532-a0481cdf0000
        class = network
        info = HP LaserJet MFP M28w (5E1F2A)
        make-and-model = HP LaserJet MFP M28w
        device-id = MFG:HP;MDL:LaserJet MFP M28w;CMD:PCLm,PWGRaster,URF,PCL3GUI;
        location = Accueil
Device: uri = ipp
        class = network
        info = Internet Printing Protocol (ipp)
        make-and-model = Unknown
        device-id = 
        location = 
";

#[test]
fn found_printers_are_one_each_driverless_first() {
    assert!(parse_lpinfo_devices(captured::LPINFO_NOTHING).is_empty(), "the backends' bare names are no printers");
    let found = parse_lpinfo_devices(LPINFO_PRINTERS);
    assert_eq!(found.len(), 2, "{found:#?}");
    let hp = &found[0];
    assert!(hp.driverless);
    assert_eq!(
        hp.uri,
        "dnssd://HP%20LaserJet%20MFP%20M28w%20(5E1F2A)._ipp._tcp.local/?uuid=564e4333-4230-3042-3532-a0481cdf0000"
    );
    assert_eq!(
        (hp.info.as_str(), hp.location.as_str(), hp.connection),
        ("HP LaserJet MFP M28w (5E1F2A)", "Accueil", Connection::Network)
    );
    let usb = &found[1];
    assert!(!usb.driverless);
    assert_eq!(usb.connection, Connection::Usb);
    assert_eq!(usb.device_id, "MFG:Hewlett-Packard;MDL:HP LaserJet 1020;CMD:ACL;CLS:PRINTER;DES:HP LaserJet 1020;");
    assert_eq!(usb.location, "");
    // An ipp:// device is driverless too; other schemes are not offered.
    let direct = "Device: uri = ipp://192.168.1.40/ipp/print\n        info = Salle\nDevice: uri = socket://192.168.1.41\n        info = Jet\n";
    let found = parse_lpinfo_devices(direct);
    assert_eq!(found.len(), 1);
    assert!(found[0].driverless);
    assert_eq!(serde_json::to_value(&found[0]).unwrap()["connection"], "network");
}

#[test]
fn drivers_and_queue_names() {
    let mdl = device_id_field("MFG:Generic;MDL:CUPS-PDF Printer;", &["MDL", "MODEL"]).unwrap();
    assert_eq!(mdl, "CUPS-PDF Printer");
    assert_eq!(device_id_field("MANUFACTURER:HP;MODEL:LaserJet 1020;", &["MDL", "MODEL"]), Some("LaserJet 1020"));
    assert_eq!(device_id_field("MFG:HP;", &["MDL"]), None);
    assert_eq!(pick_driver(captured::LPINFO_MODELS, mdl).as_deref(), Some("lsb/usr/cups-pdf/CUPS-PDF_noopt.ppd"));
    // No match: CUPS lists every driver; none names the model, none is taken.
    assert_eq!(pick_driver(captured::LPINFO_EVERY_DRIVER, "Nothing 3000"), None);
    assert_eq!(
        pick_driver(
            "everywhere IPP Everywhere\ndriverless:ipp://x/ HP LaserJet 1020 (driverless)\nraw Raw Queue\n",
            "HP LaserJet 1020"
        ),
        None
    );
    // A recommended one first; « series » may be missing.
    let brother = "brlaser:0/cups/model/brl2350.ppd Brother HL-L2350DW, using brlaser v6\n\
                   foomatic-db-compressed-ppds:0/ppd/foomatic-ppd/Brother-HL-L2350DW-Postscript.ppd Brother HL-L2350DW Foomatic/Postscript (recommended)\n";
    assert_eq!(
        pick_driver(brother, "HL-L2350DW series").as_deref(),
        Some("foomatic-db-compressed-ppds:0/ppd/foomatic-ppd/Brother-HL-L2350DW-Postscript.ppd")
    );
    assert_eq!(pick_driver("", "x"), None);
    assert_eq!(Driver::Everywhere.model(), "everywhere");
    assert_eq!(queue_name("HP LaserJet MFP M28w (5E1F2A)"), "HP_LaserJet_MFP_M28w_5E1F2A");
    assert_eq!(queue_name("Épson « Écotank » ET-2810"), "Epson_Ecotank_ET-2810");
    assert_eq!(queue_name("// ??"), "imprimante");
    assert_eq!(queue_name(&"x".repeat(80)).len(), 40);
    for n in ["HP_LaserJet_MFP_M28w_5E1F2A", "imprimante", "borne-test-1"] {
        assert!(valid_queue_name(n), "{n}");
    }
    for n in ["", "a b", "a/b", "a#b", "é"] {
        assert!(!valid_queue_name(n), "{n}");
    }
}

#[test]
fn queue_states_and_reasons() {
    let idle = parse_status("borne-test-t3", captured::IDLE, "borne-test-t3 accepting requests since Mon\n").unwrap();
    assert_eq!(
        (idle.state, idle.accepting, idle.reasons.len(), idle.message.as_deref()),
        (QueueState::Idle, true, 0, None)
    );
    assert!(idle.ready());
    assert_eq!(idle.state_code(), "idle");
    assert!(has_ppd(captured::IDLE) && !has_ppd(captured::RAW));
    let printing =
        parse_status("borne-test-t3", captured::PRINTING, "borne-test-t3 accepting requests since\n").unwrap();
    assert_eq!(printing.state, QueueState::Printing);
    assert_eq!(printing.message.as_deref(), Some("Printing."));
    assert!(printing.reasons.is_empty(), "CUPS's bookkeeping is no reason: {:?}", printing.reasons);
    assert!(printing.ready());
    let disabled = parse_status("borne-test-try", captured::DISABLED, captured::ACCEPTING).unwrap();
    assert_eq!((disabled.state, disabled.message.as_deref()), (QueueState::Stopped, None));
    assert!(!disabled.ready());
    assert_eq!(disabled.state_code(), "stopped");
    let rejecting = parse_status("borne-test-r", captured::REJECTING, captured::NOT_ACCEPTING).unwrap();
    assert!(!rejecting.accepting);
    assert_eq!(rejecting.message.as_deref(), Some("Rejecting Jobs"));
    // Accepting again but still rejecting new jobs while enabled.
    let running = "printer borne-test-r is idle.  enabled since Mon\n\tAlerts: none\n";
    assert_eq!(parse_status("borne-test-r", running, captured::NOT_ACCEPTING).unwrap().state_code(), "not-accepting");
    // Another queue's lines are not this one's.
    assert!(parse_status("borne", captured::IDLE, "").is_none());
    assert!(!parse_status("borne-test-t3", captured::IDLE, "borne-test-t3x accepting requests\n").unwrap().accepting);

    // Reasons a printer reports, as `lpstat -l -p` lists them after `Alerts:`.
    let out = "printer hp is idle.  enabled since Mon\n\tAlerts: media-empty-error marker-supply-low-warning offline-report door-open paused spool-area-full\n";
    let s = parse_status("hp", out, "hp accepting requests since Mon\n").unwrap();
    let codes: Vec<(&str, bool)> = s.reasons.iter().map(|r| (r.code, r.blocking)).collect();
    assert_eq!(
        codes,
        [
            ("media-empty", true),
            ("supply-low", false),
            ("offline", false),
            ("cover-open", true),
            ("paused", true),
            ("other", false)
        ]
    );
    assert!(!s.ready());
    assert_eq!(reason("media-jam").map(|r| (r.code, r.blocking)), Some(("media-jam", true)));
    assert_eq!(reason("toner-empty-warning").map(|r| (r.code, r.blocking)), Some(("supply-empty", false)));
    assert_eq!(reason("output-area-full-error").map(|r| r.code), Some("output-full"));
    assert_eq!(reason("none"), None);
    assert_eq!(reason("cups-waiting-for-job-completed"), None);
    for k in ["media-needed", "media-low-report", "marker-supply-empty-error", "connecting-to-device", "x-y"] {
        assert!(REASON_CODES.contains(&reason(k).unwrap().code), "{k}");
    }
    // The JSON the screen receives.
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["state"], "idle");
    assert_eq!(
        json["reasons"][0],
        serde_json::json!({"code": "media-empty", "keyword": "media-empty-error", "blocking": true})
    );
}

#[test]
fn installed_queues_and_their_model() {
    let q = parse_installed(captured::LPSTAT_V, captured::LPSTAT_D);
    assert_eq!(q.len(), 2);
    assert_eq!((q[0].name.as_str(), q[0].uri.as_str(), q[0].default), ("borne-e2e", "cups-pdf:/", false));
    assert_eq!((q[1].name.as_str(), q[1].default), ("borne-test-t3", true));
    assert!(parse_installed(captured::LPSTAT_V, captured::LPSTAT_NO_D).iter().all(|i| !i.default));
    assert_eq!(parse_make_and_model(captured::LPOPTIONS_RAW).as_deref(), Some(RAW_MODEL));
    let eve = "copies=1 device-uri=ipp://127.0.0.1:49219/ipp/print printer-make-and-model='Printer - IPP Everywhere' printer-state=3\n";
    assert_eq!(parse_make_and_model(eve).as_deref(), Some("Printer - IPP Everywhere"));
    assert_eq!(parse_make_and_model("printer-make-and-model='It''s' \n").as_deref(), Some("It''s"));
    assert_eq!(parse_make_and_model("printer-make-and-model=Brother printer-state=3").as_deref(), Some("Brother"));
    assert_eq!(parse_make_and_model(""), None);
}

#[test]
fn failures_are_named_by_the_clients_words() {
    let c = |out: &str| classify("borne-test-x", out);
    for (out, code) in [
        ("lpadmin: Forbidden\n", "not-allowed"),
        ("lpinfo: Forbidden\n", "not-allowed"),
        ("cupsenable: Operation failed: client-error-forbidden\n", "not-allowed"),
        ("lpadmin: The printer or class does not exist.\n", "gone"),
        ("lpstat: Invalid destination name in list \"borne-test-x\".\n", "gone"),
        ("lp: Error - The printer or class does not exist.\n", "gone"),
        ("cupsenable: Operation failed: client-error-not-found\n", "gone"),
        ("lpstat: Scheduler is not running.\n", "cups-down"),
        ("lpadmin: Unable to connect to server: Bad file descriptor\n", "cups-down"),
        ("lpinfo: Bad file descriptor\n", "cups-down"),
        ("lp: Destination \"borne-test-x\" is not accepting jobs.\n", "not-accepting"),
        ("lpadmin: Printer drivers are deprecated and will stop working in a future version of CUPS.\nlpadmin: cups-driverd failed to get PPD file - see error_log for details.\n", "no-driver"),
        ("lpadmin: Bad device-uri scheme \"bogus\".\n", "bad-device"),
        ("lpadmin: Printer name can only contain printable characters.\n", "bad-device"),
        ("something else\n", "other"),
    ] {
        let e = c(out);
        assert_eq!(e.code(), code, "{out}");
        assert!(PrinterError::CODES.contains(&e.code()));
    }
    assert_eq!(c("lp: Error - The printer or class does not exist.\n"), PrinterError::Gone("borne-test-x".into()));
    assert_eq!(
        c("lpadmin: Printer drivers are deprecated and will stop working in a future version of CUPS.\nlpadmin: cups-driverd failed to get PPD file - see error_log for details.\n"),
        PrinterError::NoDriver("lpadmin: cups-driverd failed to get PPD file - see error_log for details.".into())
    );
}

#[test]
fn a_printer_by_address_is_an_ipp_url_with_a_host_and_nothing_else() {
    let f = Found::by_address(" ipp://192.168.1.20:631/ipp/print ").unwrap();
    assert_eq!(f.uri, "ipp://192.168.1.20:631/ipp/print");
    assert!(f.driverless && f.connection == Connection::Network);
    assert_eq!(f.info, "192.168.1.20");
    assert!(Found::by_address("ipps://imprimante.centre.lan/ipp/print").is_ok());
    for bad in ["file:///etc/passwd", "usb://HP/LaserJet", "http://192.168.1.20/", "ipp://", "pas une adresse", ""] {
        assert!(matches!(Found::by_address(bad), Err(PrinterError::BadDevice(_))), "{bad}");
    }
}
