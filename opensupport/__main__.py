from opensupport.cli import main

raise SystemExit(main())
