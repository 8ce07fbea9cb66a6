from perfagent.cli import main

main()
