//! Sealing, opening, key problems and rotation, as the tests hold them.

mod key_problems {
    use super::super::*;

    #[test]
    fn a_recorded_key_problem_reads_back_as_itself() {
        let path = PathBuf::from("/var/lib/ringback/ringback.key");
        for problem in [
            KeyProblem::Missing(path.clone()),
            KeyProblem::Unreadable {
                path: path.clone(),
                reason: "Permission denied (os error 13)".into(),
            },
            KeyProblem::Malformed(path.clone()),
            KeyProblem::Wrong(path.clone()),
        ] {
            assert_eq!(
                KeyProblem::from_message(&problem.to_string()),
                Some(problem)
            );
        }
        assert_eq!(KeyProblem::from_message("something else"), None);
    }
}

mod sealing {
    use super::super::*;

    fn vault_in(dir: &Path) -> Vault {
        let path = dir.join("ringback.key");
        Vault::create_if_missing(&path).expect("key");
        Vault::load(&path)
    }

    #[test]
    fn a_sealed_token_opens_for_its_restaurant_and_for_no_other() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = vault_in(dir.path());
        let sealed = vault.seal("rst_a", "EAAG-secret").expect("seal");
        assert!(!sealed.0.windows(11).any(|w| w == b"EAAG-secret"));
        assert_eq!(
            vault.open("rst_a", &sealed).expect("open").expose(),
            "EAAG-secret"
        );
        assert_eq!(
            vault.open("rst_b", &sealed).err(),
            Some(KeyProblem::Wrong(dir.path().join("ringback.key")))
        );
    }

    #[test]
    fn two_seals_of_one_token_differ() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = vault_in(dir.path());
        let a = vault.seal("rst_a", "EAAG").expect("seal");
        let b = vault.seal("rst_a", "EAAG").expect("seal");
        assert_ne!(a, b);
    }

    #[test]
    fn a_key_file_of_the_wrong_length_is_named_as_not_a_key() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("ringback.key");
        std::fs::write(&path, b"short").expect("write");
        let vault = Vault::load(&path);
        assert_eq!(vault.problem(), Some(KeyProblem::Malformed(path.clone())));
        assert_eq!(
            vault.seal("rst_a", "x").err(),
            Some(SealError::Key(KeyProblem::Malformed(path)))
        );
    }

    #[test]
    fn a_created_key_file_is_32_bytes_readable_by_its_owner_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("ringback.key");
        assert!(Vault::create_if_missing(&path).expect("create"));
        assert!(!Vault::create_if_missing(&path).expect("again"));
        let meta = std::fs::metadata(&path).expect("meta");
        assert_eq!(meta.len(), 32);
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_rotation_stopped_at_any_step_leaves_every_secret_openable_and_is_finished_next_time() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("ringback.key");
        let vault = vault_in(dir.path());
        let before = vault.seal("rst_a", "EAAG-a").expect("seal");

        // Stopped after the re-seal committed, before the files were renamed.
        let rotation = Rotation::begin(&path, |_| false).expect("begin");
        let after = rotation.seal("rst_a", "EAAG-a").expect("seal");
        drop(rotation);
        assert_eq!(
            vault.open("rst_a", &after).expect("via .new").expose(),
            "EAAG-a"
        );
        assert_eq!(
            vault.open("rst_a", &before).expect("via the key").expose(),
            "EAAG-a"
        );

        // The next rotation sees a secret sealed under `.new` and finishes that one first.
        let next = Rotation::begin(&path, |pending| pending.open("rst_a", &after).is_ok())
            .expect("begin again");
        assert_eq!(
            vault.open("rst_a", &after).expect("now the key").expose(),
            "EAAG-a"
        );
        assert_eq!(
            vault.open("rst_a", &before).expect("now .old").expose(),
            "EAAG-a"
        );
        let latest = next.seal("rst_a", "EAAG-a").expect("seal");
        next.finish().expect("finish");
        assert_eq!(
            vault.open("rst_a", &latest).expect("the new key").expose(),
            "EAAG-a"
        );
        assert_eq!(
            vault.open("rst_a", &after).expect("kept as .old").expose(),
            "EAAG-a"
        );
        assert!(!companion(&path, NEW).exists());
    }
}
