// Entry point: parses the command line and runs a subcommand (see WhittleCommand).
WhittleCommand.main()
